package kvtext_test

import (
	"fmt"
	"strings"

	"github.com/tiermem/tiermem/internal/kvtext"
)

func ExampleNewReader() {
	text := `{"key":"red","value":"#ff0000"}
{"key":"origin","value":{"x":0,"y":0},"meta":"point"}`
	r := kvtext.NewReader(strings.NewReader(text), kvtext.JSONLines)
	for r.Next() {
		fmt.Printf("%s %s %q\n", r.Key(), r.Value(), r.Meta())
	}
	fmt.Println(r.Err())
	// Output:
	// red #ff0000 ""
	// origin {"x":0,"y":0} "point"
	// <nil>
}

func ExampleDetect() {
	fmt.Println(kvtext.Detect("dump.txt", []byte(`{"key":1}`)), kvtext.Detect("dump.tsv", nil))
	// Output: jsonl tsv
}

func ExampleParseFormat() {
	f, err := kvtext.ParseFormat("ndjson")
	fmt.Println(f, err)
	// Output: jsonl <nil>
}
