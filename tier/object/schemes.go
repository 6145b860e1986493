package object

import (
	"context"
	"fmt"
	"sync"
)

// Opener returns the Bucket at a Location of the scheme it was registered
// for.
type Opener func(ctx context.Context, loc Location) (Bucket, error)

var (
	openersMu sync.RWMutex
	openers   = map[string]Opener{}
)

// Register makes OpenURL open the URLs of scheme with open. A client
// package registers its scheme in its init function (tier/object/s3
// registers "s3"), so that a program links the client it names and no
// other, and the package that reads a URL need not import it. Register
// panics if the scheme is registered twice or is "file", which OpenURL
// serves itself.
func Register(scheme string, open Opener) {
	openersMu.Lock()
	defer openersMu.Unlock()
	if _, dup := openers[scheme]; dup || scheme == "file" {
		panic(fmt.Sprintf("object: scheme %q registered twice", scheme))
	}
	openers[scheme] = open
}

// OpenURL returns the Bucket a store URL names (see ParseURL): a Dir for
// "", a path or file://, with "" meaning defaultDir; for another scheme,
// the Bucket its registered Opener returns. A scheme ParseURL reads but no
// package registered is an error wrapping ErrInvalidURL that says which
// package to import.
func OpenURL(ctx context.Context, rawURL, defaultDir string) (Bucket, error) {
	loc, err := ParseURL(rawURL, defaultDir)
	if err != nil {
		return nil, err
	}
	if loc.Scheme == "file" {
		return OpenDir(loc.Path)
	}
	openersMu.RLock()
	open := openers[loc.Scheme]
	openersMu.RUnlock()
	if open == nil {
		return nil, fmt.Errorf("%w: %s: no client for %s:// is linked in: import _ \"github.com/tiermem/tiermem/tier/object/%s\"",
			ErrInvalidURL, loc, loc.Scheme, loc.Scheme)
	}
	return open(ctx, loc)
}
