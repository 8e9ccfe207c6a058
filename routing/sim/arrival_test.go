package sim

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

func TestParseArrival(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		line string
		want Arrival
		err  string // "" for a valid line
	}{
		{name: "clock time and every field", line: `{"id":"x1","at":"09:00:05","segment":"private","channel":"video","language":"yue","intent":"wealth","skills":{"wealth":4},"handle_time":900,"patience":120,"customer":"cus-pb-0001","priority":10}`,
			want: Arrival{ID: "x1", At: 9*time.Hour + 5*time.Second, Segment: "private", Channel: "video", Language: "yue", Intent: "wealth",
				Skills: map[string]int{"wealth": 4}, HandleTime: 900 * time.Second, Patience: 120 * time.Second, Customer: "cus-pb-0001", Priority: 10}},
		{name: "seconds and fractions", line: `{"at":32405.5,"segment":"mass","channel":"sms","handle_time":60.25}`,
			want: Arrival{At: 32405500 * time.Millisecond, Segment: "mass", Channel: "sms", HandleTime: 60250 * time.Millisecond}},
		{name: "clock with milliseconds, past midnight", line: `{"at":"25:00:00.250","segment":"mass","channel":"voice","handle_time":1}`,
			want: Arrival{At: 25*time.Hour + 250*time.Millisecond, Segment: "mass", Channel: "voice", HandleTime: time.Second}},
		{name: "customer without segment", line: `{"at":"10:00:00","customer":"cus-1","channel":"voice","handle_time":30}`,
			want: Arrival{At: 10 * time.Hour, Customer: "cus-1", Channel: "voice", HandleTime: 30 * time.Second}},
		{name: "unknown field", line: `{"at":"10:00:00","segment":"mass","channel":"voice","handle_time":30,"colour":"red"}`, err: "colour: unknown field"},
		{name: "wrong type", line: `{"at":"10:00:00","segment":"mass","channel":"voice","handle_time":"30s"}`, err: "handle_time: got string (allowed: a number of seconds)"},
		{name: "not JSON", line: `{"at":`, err: "allowed: one JSON object per line"},
		{name: "missing at", line: `{"segment":"mass","channel":"voice","handle_time":30}`, err: "at: missing"},
		{name: "bad clock", line: `{"at":"9:61:00","segment":"mass","channel":"voice","handle_time":30}`, err: `at: "9:61:00" (allowed: "HH:MM:SS"`},
		{name: "negative seconds", line: `{"at":-1,"segment":"mass","channel":"voice","handle_time":30}`, err: "at: -1 seconds (allowed: 0 to"},
		{name: "missing handle time", line: `{"at":"10:00:00","segment":"mass","channel":"voice"}`, err: "handle_time: 0 (allowed: more than 0 seconds"},
		{name: "negative patience", line: `{"at":"10:00:00","segment":"mass","channel":"voice","handle_time":30,"patience":-5}`, err: "patience: -5"},
		{name: "unknown segment", line: `{"at":"10:00:00","segment":"vip","channel":"voice","handle_time":30}`, err: `segment: "vip" (allowed:`},
		{name: "no segment nor customer", line: `{"at":"10:00:00","channel":"voice","handle_time":30}`, err: "segment: missing"},
		{name: "unknown channel", line: `{"at":"10:00:00","segment":"mass","channel":"fax","handle_time":30}`, err: `channel: "fax" (allowed:`},
		{name: "skill level out of range", line: `{"at":"10:00:00","segment":"mass","channel":"voice","handle_time":30,"skills":{"fx":6}}`, err: "skills.fx: level 6 (allowed: 1 to 5)"},
		{name: "bad language", line: `{"at":"10:00:00","segment":"mass","channel":"voice","handle_time":30,"language":"English"}`, err: `language: "English"`},
		{name: "two objects", line: `{"at":"10:00:00","segment":"mass","channel":"voice","handle_time":30} {}`, err: "more than one JSON value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseArrival([]byte(tt.line))
			if tt.err != "" {
				if !errors.Is(err, ErrInvalidArrival) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want ErrInvalidArrival containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestReadArrivalsNamesEveryBadLine(t *testing.T) {
	t.Parallel()
	input := `{"at":"08:00:00","segment":"mass","channel":"voice","handle_time":60}

{"at":"08:00:01","segment":"mass","channel":"voice","handle_time":-1}
{"id":"a","at":"08:00:02","segment":"mass","channel":"wechat","handle_time":60}
{"id":"a","at":"08:00:03","segment":"mass","channel":"wechat","handle_time":60}
{"at":"08:00:04","segment":"mass","channel":"pigeon","handle_time":60}
`
	_, err := ReadArrivals(strings.NewReader(input), "day.jsonl")
	if !errors.Is(err, ErrInvalidArrival) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{"day.jsonl:3: handle_time: -1", `day.jsonl:5: id: "a" already used on line 4`, `day.jsonl:6: channel: "pigeon"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != 3 {
		t.Errorf("%d problems reported, want 3:\n%v", n, err)
	}
}

func TestWriteReadRoundTrip(t *testing.T) {
	t.Parallel()
	in := []Arrival{
		{At: 9*time.Hour + 1500*time.Millisecond, Segment: conversation.SegmentAffluent, Channel: conversation.ChannelWeChat, Language: "zh",
			Skills: map[string]int{"fx": 3, "wealth": 2}, HandleTime: 400 * time.Second},
		{ID: "pb", At: 10 * time.Hour, Customer: "cus-pb-0001", Segment: conversation.SegmentPrivate, Channel: conversation.ChannelVideo,
			HandleTime: 1200 * time.Second, Patience: 300 * time.Second, Priority: -5, Intent: "investment"},
	}
	var buf bytes.Buffer
	if err := WriteArrivals(&buf, in); err != nil {
		t.Fatal(err)
	}
	if want := `{"at":"09:00:01.500","segment":"affluent","channel":"wechat","language":"zh","skills":{"fx":3,"wealth":2},"handle_time":400}`; !strings.HasPrefix(buf.String(), want+"\n") {
		t.Errorf("first line = %q, want %q", strings.SplitN(buf.String(), "\n", 2)[0], want)
	}
	out, err := ReadArrivals(&buf, "x")
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		in[i].Line = i + 1
	}
	if !reflect.DeepEqual(out, in) {
		t.Errorf("round trip:\n got %+v\nwant %+v", out, in)
	}
}
