package tiertest

import (
	"fmt"
	"testing"

	"github.com/tiermem/tiermem/tier"
)

// prepareLookups: PrepareLookups is only a hint. After it is given present,
// absent, empty and long keys, the store holds the same bytes and values,
// and a store that chooses its own victims finds every key still unread
// (Idle): the hint recorded no read. A closed store takes the hint too.
// (closeRacing calls it while Close runs.)
func prepareLookups(t *testing.T, s tier.Store) {
	p, ok := s.(tier.LookupPreparer)
	if !ok {
		t.Skipf("%T prepares no lookups", s)
	}
	const n = 200
	var keys [][]byte
	for i := range n {
		key := fmt.Sprint("k", i)
		_, err := s.Put(key, []byte(key+"-value"), []byte("m"))
		must(t, err)
		keys = append(keys, []byte(key))
	}
	keys = append(keys, []byte("absent"), nil, make([]byte, 1<<16), []byte("k7"))
	cs, isClock := s.(clockStore)
	if isClock {
		cs.Idle(func(string, []byte) bool { return true }) // clears every reference
	}
	used, length := s.Used(), s.Len()
	p.PrepareLookups(keys)
	p.PrepareLookups(nil)
	if s.Used() != used || s.Len() != length {
		t.Errorf("Used %d, Len %d after PrepareLookups; %d and %d before", s.Used(), s.Len(), used, length)
	}
	if isClock {
		idle := 0
		cs.Idle(func(string, []byte) bool { idle++; return true })
		if idle != n {
			t.Errorf("%d of %d keys unread after PrepareLookups: the hint recorded reads", idle, n)
		}
	}
	for _, k := range keys[:n] {
		err := s.ViewMeta(string(k), func(v, _ []byte) error {
			if string(v) != string(k)+"-value" {
				t.Errorf("%s reads %q after PrepareLookups", k, v)
			}
			return nil
		})
		must(t, err)
	}
	must(t, s.Close())
	p.PrepareLookups(keys)
}
