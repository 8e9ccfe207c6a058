package conversation

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestIncomingValidate(t *testing.T) {
	good := Incoming{
		Kind: IncomingMessage, Channel: ChannelSMS, ChannelAccount: "+85230000000",
		From: Address{Kind: AddressPhone, Value: "+85291234567"}, ProviderID: "SM1", Text: "hello",
		ReceivedAt: time.Unix(1700000000, 0),
	}
	if err := good.Validate(); err != nil {
		t.Fatalf("good incoming: %v", err)
	}
	cases := []struct {
		name string
		edit func(*Incoming)
		want string
	}{
		{"unknown kind", func(in *Incoming) { in.Kind = "fax" }, `kind "fax"`},
		{"unknown channel", func(in *Incoming) { in.Channel = "telex" }, `channel "telex"`},
		{"empty address", func(in *Incoming) { in.From = Address{} }, "from"},
		{"event without name", func(in *Incoming) { in.Kind = IncomingEvent }, "needs its name"},
		{"no time", func(in *Incoming) { in.ReceivedAt = time.Time{} }, "received_at"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := good
			c.edit(&in)
			err := in.Validate()
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Validate() = %v, want ErrInvalid mentioning %q", err, c.want)
			}
		})
	}
}

func TestIncomingLogValueMasksText(t *testing.T) {
	in := Incoming{Kind: IncomingMessage, Channel: ChannelSMS, From: Address{Kind: AddressPhone, Value: "+85291234567"}, Text: "my PIN is 1234"}
	v := in.LogValue().String()
	if strings.Contains(v, "1234") || strings.Contains(v, "91234567") {
		t.Fatalf("log value leaks personal data: %s", v)
	}
}

func TestProviderErrorMessage(t *testing.T) {
	err := error(&ProviderError{Channel: ChannelWeChat, Code: "45015", Message: "response out of time limit"})
	var pe *ProviderError
	if !errors.As(err, &pe) || pe.Code != "45015" || !strings.Contains(err.Error(), "wechat provider error 45015") {
		t.Fatalf("ProviderError = %v", err)
	}
}
