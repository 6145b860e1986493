package server

import "fmt"

// cmdClient serves CLIENT ID, CLIENT SETNAME and CLIENT GETNAME.
func cmdClient(c *conn, args [][]byte) {
	sub := args[1]
	arity := 0
	switch {
	case equalFold(sub, "id"):
		arity = 2
	case equalFold(sub, "getname"):
		arity = 2
	case equalFold(sub, "setname"):
		arity = 3
	default:
		c.out.errorf(fmt.Sprintf("unknown subcommand '%s'. Try CLIENT HELP.", cString(sub, 128)))
		return
	}
	if len(args) != arity {
		c.out.errorf(fmt.Sprintf("wrong number of arguments for 'client|%s' command", lowerString(sub)))
		return
	}
	switch {
	case equalFold(sub, "id"):
		c.out.int(c.id)
	case equalFold(sub, "getname"):
		if c.name == nil {
			c.out.null()
		} else {
			c.out.bulk(c.name)
		}
	default:
		if c.setName(args[2]) {
			c.out.ok()
		}
	}
}

// setName sets the connection's name, as Redis's clientSetNameOrReply: an
// empty one clears it; spaces and special characters are refused.
func (c *conn) setName(name []byte) bool {
	for _, b := range name {
		if b < '!' || b > '~' {
			c.out.errorf("Client names cannot contain spaces, newlines or special characters.")
			return false
		}
	}
	if len(name) == 0 {
		c.name = nil
	} else {
		c.name = append(c.name[:0], name...)
	}
	return true
}
