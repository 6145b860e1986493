// Package kvtext reads key/value records from text, one record per line: JSON
// lines ({"key":…,"value":…}, or "key_base64" and "value_base64" for binary
// data) or tab-separated (key, a tab, the value). It is the input of
// `tiermem bundle build`.
//
//	r := kvtext.NewReader(f, kvtext.JSONLines)
//	for r.Next() {
//		use(r.Key(), r.Value(), r.Meta())
//	}
//	err := r.Err() // names the line of a malformed record
//
// A Reader is not safe for concurrent use.
package kvtext
