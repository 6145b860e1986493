package kvtext_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tiermem/tiermem/internal/kvtext"
)

// readAll returns the records of text as "key=value" strings (with "|meta"
// when there is one).
func readAll(text string, f kvtext.Format) ([]string, error) {
	r := kvtext.NewReader(strings.NewReader(text), f)
	var out []string
	for r.Next() {
		s := fmt.Sprintf("%s=%s", r.Key(), r.Value())
		if r.Meta() != nil {
			s += "|" + string(r.Meta())
		}
		out = append(out, s)
	}
	return out, r.Err()
}

func TestRead(t *testing.T) {
	tests := []struct {
		name   string
		format kvtext.Format
		text   string
		want   []string
	}{
		{"tsv", kvtext.TSV, "a\t1\nb\t2 with\ttab\r\n\nc\t", []string{"a=1", "b=2 with\ttab", "c="}},
		{"jsonl strings", kvtext.JSONLines, `{"key":"a","value":"x\ny"}` + "\n" + `{"value":"2","key":"b"}`, []string{"a=x\ny", "b=2"}},
		{"jsonl values", kvtext.JSONLines, `{"key":"o","value":{"n": [1, 2]}}` + "\n" + `{"key":3,"value":4.5}`, []string{`o={"n":[1,2]}`, "3=4.5"}},
		{"jsonl missing and null", kvtext.JSONLines, `{"key":"a"}` + "\n" + `{"key":"b","value":null,"meta":null}`, []string{"a=", "b="}},
		{"jsonl meta", kvtext.JSONLines, `{"key":"a","value":"v","meta":"hot"}`, []string{"a=v|hot"}},
		{"jsonl utf-8", kvtext.JSONLines, `{"key":"é\u00e9\ud83d\ude00\ufffd�","value":"\\u0041"}`, []string{"éé😀\ufffd\ufffd=\\u0041"}},
		{"empty", kvtext.TSV, "\n\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(tt.text, tt.format)
			if err != nil || fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("read %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestSyntaxErrorsNameTheLine(t *testing.T) {
	tests := []struct {
		format kvtext.Format
		text   string
		want   string
	}{
		{kvtext.TSV, "a\t1\n\nno tab here\n", "line 3: no tab"},
		{kvtext.JSONLines, `{"key":"a"}` + "\n" + `{"value":"b"}`, `line 2: no "key"`},
		{kvtext.JSONLines, `{"key":"a"}` + "\n" + `{"key":"b` + "\xff" + `"}`, `line 2: "key" is not valid UTF-8: give binary data as "key_base64"`},
		{kvtext.JSONLines, `{"key":"a","value":"` + "\xc3" + `"}`, `line 1: "value" is not valid UTF-8`},
		{kvtext.JSONLines, `{"key":"a","value":{"x":"` + "\xfe" + `"}}`, `line 1: "value" is not valid UTF-8`},
		{kvtext.JSONLines, `{"key":"a","meta":"` + "\xff" + `"}`, `line 1: "meta" is not valid UTF-8`},
		{kvtext.JSONLines, `{"key":"\ud800"}`, `line 1: "key" holds the unpaired surrogate \ud800`},
		{kvtext.JSONLines, `{"key":"x\udc00y"}`, `line 1: "key" holds the unpaired surrogate \udc00`},
		{kvtext.JSONLines, `{"key":"\ud800\u0041"}`, `line 1: "key" holds the unpaired surrogate \ud800`},
		{kvtext.JSONLines, `{"key":"a","key_base64":"YQ=="}`, `line 1: both "key" and "key_base64"`},
		{kvtext.JSONLines, `{"key_base64":"!!"}`, `line 1: "key_base64": illegal base64`},
		{kvtext.JSONLines, `{"key_base64":3}`, `line 1: "key_base64": want a string of base64`},
		{kvtext.JSONLines, `{"key":"a","value":"b","value_base64":"YQ=="}`, `line 1: both "value" and "value_base64"`},
		{kvtext.JSONLines, `{"key":"a",}`, "line 1: invalid character"},
		{kvtext.JSONLines, `{"key":null}`, `line 1: no "key"`},
	}
	for _, tt := range tests {
		_, err := readAll(tt.text, tt.format)
		if !errors.Is(err, kvtext.ErrSyntax) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want ErrSyntax about %q", tt.text, err, tt.want)
		}
	}
}

func TestLongLines(t *testing.T) {
	long := strings.Repeat("x", 3<<20) // longer than the reader's buffer
	got, err := readAll("k\t"+long+"\nj\tshort", kvtext.TSV)
	if err != nil || len(got) != 2 || got[0] != "k="+long || got[1] != "j=short" {
		t.Fatalf("%d records, %v", len(got), err)
	}
}

func TestFormats(t *testing.T) {
	tests := []struct {
		name, head string
		want       kvtext.Format
	}{
		{"data.jsonl", "", kvtext.JSONLines},
		{"data.TSV", "{", kvtext.TSV},
		{"data.txt", "  {\"key\"", kvtext.JSONLines},
		{"-", "a\tb", kvtext.TSV},
	}
	for _, tt := range tests {
		if got := kvtext.Detect(tt.name, []byte(tt.head)); got != tt.want {
			t.Errorf("Detect(%q, %q) = %v, want %v", tt.name, tt.head, got, tt.want)
		}
	}
	for _, s := range []string{"auto", "jsonl", "ndjson", "tsv"} {
		if f, err := kvtext.ParseFormat(s); err != nil || (f.String() != s && s != "ndjson") {
			t.Errorf("ParseFormat(%q) = %v, %v", s, f, err)
		}
	}
	if _, err := kvtext.ParseFormat("csv"); !errors.Is(err, kvtext.ErrFormat) {
		t.Errorf("ParseFormat(csv) error = %v, want ErrFormat", err)
	}
}

// TestBinaryKeys reads keys and values given in base64, and checks that two
// keys that differ only in bytes that are not UTF-8 stay two keys.
func TestBinaryKeys(t *testing.T) {
	text := `{"key_base64":"/w==","value_base64":"AAEC"}` + "\n" +
		`{"key_base64":"/g==","value":"text"}` + "\n" +
		`{"key_base64":"","value_base64":null}`
	r := kvtext.NewReader(strings.NewReader(text), kvtext.JSONLines)
	var got []string
	for r.Next() {
		got = append(got, fmt.Sprintf("%q=%q", r.Key(), r.Value()))
	}
	want := []string{`"\xff"="\x00\x01\x02"`, `"\xfe"="text"`, `""=""`}
	if r.Err() != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("read %v, %v; want %v", got, r.Err(), want)
	}
}

// FuzzReader reads arbitrary text in both formats: records or ErrSyntax,
// never a panic; a TSV record's key never holds a tab or a newline, and a
// JSON key holds U+FFFD only where the input spells it.
func FuzzReader(f *testing.F) {
	f.Add("a\t1\nb\t2\n")
	f.Add(`{"key":"a","value":{"x":1},"meta":"m"}` + "\n\n" + `{"key":2}`)
	f.Add("\r\n\t\n{\"key\":\"\\u00e9\"}")
	f.Add(`{"key_base64":"AAE=","value_base64":"/w=="}` + "\n" + `{"key":"\ud800"}`)
	f.Fuzz(func(t *testing.T, text string) {
		for _, format := range []kvtext.Format{kvtext.TSV, kvtext.JSONLines} {
			r := kvtext.NewReader(strings.NewReader(text), format)
			for r.Next() {
				if format == kvtext.TSV && strings.ContainsAny(string(r.Key()), "\t\n") {
					t.Fatalf("TSV key %q holds a tab or newline", r.Key())
				}
				if format == kvtext.JSONLines && strings.Contains(string(r.Key()), "\ufffd") && !strings.Contains(text, "\ufffd") && !strings.Contains(strings.ToLower(text), `\ufffd`) {
					t.Fatalf("JSON key %q holds U+FFFD that the input does not", r.Key())
				}
			}
			if err := r.Err(); err != nil && !errors.Is(err, kvtext.ErrSyntax) {
				t.Fatalf("error %v is not ErrSyntax", err)
			}
		}
	})
}

// FuzzBase64RoundTrip writes arbitrary bytes as a base64 key and value, and
// as a JSON string where they are UTF-8, and reads them back unchanged.
func FuzzBase64RoundTrip(f *testing.F) {
	f.Add([]byte("k"), []byte("v"))
	f.Add([]byte{0xff, 0}, []byte("\xed\xa0\x80"))
	f.Fuzz(func(t *testing.T, key, value []byte) {
		line := fmt.Sprintf(`{"key_base64":%q,"value_base64":%q}`, base64.StdEncoding.EncodeToString(key), base64.StdEncoding.EncodeToString(value))
		if utf8.Valid(key) {
			k, _ := json.Marshal(string(key))
			line += "\n" + fmt.Sprintf(`{"key":%s,"value_base64":%q}`, k, base64.StdEncoding.EncodeToString(value))
		}
		r := kvtext.NewReader(strings.NewReader(line), kvtext.JSONLines)
		for r.Next() {
			if !bytes.Equal(r.Key(), key) || !bytes.Equal(r.Value(), value) {
				t.Fatalf("read %q=%q, wrote %q=%q", r.Key(), r.Value(), key, value)
			}
		}
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
	})
}
