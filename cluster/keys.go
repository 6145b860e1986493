package cluster

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/zeebo/xxh3"
)

// MaxKeyLen is the longest key a Cluster accepts, in bytes.
const MaxKeyLen = 16 << 10

// slots is the number of hash slots of every Redis Cluster.
const slots = 16384

// slotStride spreads the chunks of one value over the slots: consecutive
// chunks are 0.618 × 16384 slots apart (the golden ratio, odd so that it
// visits every slot), so any run of chunks falls on every master in
// proportion to the slots it serves, whatever the slot ranges are.
const slotStride = 10125

// Keys in Redis: the manifest of key K is "tm:m:K"; chunk i of generation G,
// begun at unix second T, is "tm:c:{TAG}:NAME:G:T:i", where TAG is a short
// hash tag chosen to put the chunk on a given slot and NAME is K's name (see
// keyName).
const (
	manifestPrefix = "tm:m:"
	chunkPrefix    = "tm:c:{"
)

// hexNameMax is the longest key whose chunks and object are named by the
// key itself, in hex. A longer key's are named by a digest of it (its
// manifest says so, flagDigest), so that a key of up to MaxKeyLen costs each
// chunk tens of bytes of name rather than twice its length, and an object
// name stays inside a file system's 255 bytes and S3's 1024.
const hexNameMax = 64

// digestMark starts a digest name; hex never holds it.
const digestMark = "~"

// keyName returns the name of key in its chunk keys and object name: its
// hex, or with digest "~" and the hex of its XXH3-128.
func keyName(key string, digest bool) string {
	if !digest {
		return hex.EncodeToString([]byte(key))
	}
	sum := xxh3.HashString128(key).Bytes()
	return digestMark + hex.EncodeToString(sum[:])
}

// usesDigest reports whether a Store of key names its chunks by digest.
func usesDigest(key string) bool { return len(key) > hexNameMax }

func manifestKey(key string) string { return manifestPrefix + key }

func checkKey(key string) error {
	if key == "" || len(key) > MaxKeyLen {
		return fmt.Errorf("%w: %d bytes (want 1 to %d)", ErrInvalidKey, len(key), MaxKeyLen)
	}
	return nil
}

// chunkKey returns the key of chunk i of generation gen of the key named
// name (keyName), which hashes to slot (base + i×slotStride) mod 16384.
func chunkKey(name string, gen uint64, started int64, base uint32, i int) string {
	slot := (uint64(base) + uint64(i)*slotStride) % slots
	var b strings.Builder
	b.Grow(len(chunkPrefix) + 8 + len(name) + 48)
	b.WriteString(chunkPrefix)
	b.WriteString(slotTags()[slot])
	b.WriteString("}:")
	b.WriteString(name)
	b.WriteByte(':')
	b.WriteString(strconv.FormatUint(gen, 16))
	b.WriteByte(':')
	b.WriteString(strconv.FormatInt(started/1e9, 16))
	b.WriteByte(':')
	b.WriteString(strconv.Itoa(i))
	return b.String()
}

// chunkID is what a chunk's key (or an object's name) says about it.
type chunkID struct {
	name    string // the key's name: its hex, or a digest (keyName)
	gen     uint64
	started int64 // unix seconds
	index   int
}

// key returns the key id names, and false if id names it by digest.
func (id chunkID) key() (string, bool) {
	if strings.HasPrefix(id.name, digestMark) {
		return "", false
	}
	k, _ := hex.DecodeString(id.name) // checked by parseName
	return string(k), true
}

// parseName reports whether name is one keyName makes.
func parseName(name string) bool {
	if d, ok := strings.CutPrefix(name, digestMark); ok {
		_, err := hex.DecodeString(d)
		return err == nil && len(d) == 32
	}
	_, err := hex.DecodeString(name)
	return err == nil && name != ""
}

// parseChunkKey parses a key made by chunkKey.
func parseChunkKey(k string) (chunkID, bool) {
	rest, ok := strings.CutPrefix(k, chunkPrefix)
	if !ok {
		return chunkID{}, false
	}
	_, rest, ok = strings.Cut(rest, "}:")
	if !ok {
		return chunkID{}, false
	}
	parts := strings.Split(rest, ":")
	if len(parts) != 4 {
		return chunkID{}, false
	}
	gen, err2 := strconv.ParseUint(parts[1], 16, 64)
	started, err3 := strconv.ParseInt(parts[2], 16, 64)
	index, err4 := strconv.Atoi(parts[3])
	if !parseName(parts[0]) || err2 != nil || err3 != nil || err4 != nil {
		return chunkID{}, false
	}
	return chunkID{parts[0], gen, started, index}, true
}

// slotTags returns, for every slot, a short string whose CRC16 puts a key
// with it as hash tag on that slot.
var slotTags = sync.OnceValue(func() []string {
	tags := make([]string, slots)
	left := slots
	for n := uint64(0); left > 0; n++ {
		t := strconv.FormatUint(n, 36)
		if s := crc16(t) % slots; tags[s] == "" {
			tags[s] = t
			left--
		}
	}
	return tags
})

// crc16 is CRC-16/XMODEM, the hash of Redis Cluster's key slots.
func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc ^= uint16(s[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}
