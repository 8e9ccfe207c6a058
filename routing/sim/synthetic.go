package sim

import (
	"cmp"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// weighted is one choice with its weight.
type weighted[T any] struct {
	v T
	w int
}

// intent is a reason for contact and the skills it needs.
type intent struct {
	name   string
	skills map[string]int
}

// segmentDay is how one segment's clients contact the bank over a day.
type segmentDay struct {
	seg   conversation.Segment
	count int
	// open and close (hours, local) bound the segment team's day: most
	// contacts come inside it, a few outside (answered after hours).
	open, close float64
	channels    []weighted[conversation.Channel]
	intents     []weighted[intent]
	// voice is the median handle time of a call, in seconds; chats and
	// video are derived from it.
	voice float64
	// patience is the mean patience of a caller, in seconds.
	patience float64
	// customers are directory customers (demo) and their weights; share
	// is the per-cent of contacts that come from one of them.
	customers []weighted[conversation.CustomerID]
	share     int
}

// bankDay is the synthetic day: volumes sized for the demo directory's
// teams (configs/demo/directory.yaml), so that the mid-morning and
// after-lunch peaks stretch the mass queues into overflow while the
// quieter hours are served within target.
func bankDay() []segmentDay {
	chats := func(voice, video, sms, wechat, webchat int) []weighted[conversation.Channel] {
		return []weighted[conversation.Channel]{
			{conversation.ChannelVoice, voice}, {conversation.ChannelVideo, video}, {conversation.ChannelSMS, sms},
			{conversation.ChannelWeChat, wechat}, {conversation.ChannelWebChat, webchat},
		}
	}
	in := func(name string, w int, skills map[string]int) weighted[intent] {
		return weighted[intent]{intent{name, skills}, w}
	}
	return []segmentDay{
		{seg: conversation.SegmentMass, count: 1200, open: 8, close: 22, channels: chats(40, 0, 8, 27, 25),
			intents: []weighted[intent]{in("balance", 35, nil), in("cards", 30, map[string]int{"cards": 2}), in("fx", 15, map[string]int{"fx": 2}), in("transfer", 19, nil), in("complaint", 1, nil)},
			voice:   210, patience: 150, share: 3,
			customers: []weighted[conversation.CustomerID]{{"cus-ms-0001", 1}, {"cus-ms-0002", 1}}},
		{seg: conversation.SegmentMassAffluent, count: 500, open: 8, close: 22, channels: chats(40, 2, 5, 28, 25),
			intents: []weighted[intent]{in("wealth", 30, map[string]int{"wealth": 2}), in("cards", 25, map[string]int{"cards": 2}), in("fx", 20, map[string]int{"fx": 2}), in("mortgage", 10, map[string]int{"mortgage": 2}), in("general", 14, nil), in("complaint", 1, nil)},
			voice:   270, patience: 180, share: 4,
			customers: []weighted[conversation.CustomerID]{{"cus-ma-0001", 1}}},
		{seg: conversation.SegmentAffluent, count: 180, open: 9, close: 20, channels: chats(40, 8, 4, 28, 20),
			intents: []weighted[intent]{in("investment", 30, map[string]int{"investment": 2}), in("wealth", 30, map[string]int{"wealth": 3}), in("fx", 20, map[string]int{"fx": 3}), in("mortgage", 10, map[string]int{"mortgage": 2}), in("general", 10, nil)},
			voice:   330, patience: 240, share: 5,
			customers: []weighted[conversation.CustomerID]{{"cus-af-0001", 1}}},
		{seg: conversation.SegmentPrivate, count: 120, open: 7, close: 23, channels: chats(40, 20, 4, 21, 15),
			intents: []weighted[intent]{in("investment", 35, map[string]int{"investment": 3}), in("wealth", 30, map[string]int{"wealth": 4}), in("fx", 20, map[string]int{"fx": 3}), in("general", 15, nil)},
			voice:   480, patience: 300, share: 90,
			customers: []weighted[conversation.CustomerID]{{"cus-pb-0001", 25}, {"cus-pb-0002", 20}, {"cus-pb-0003", 15}, {"cus-pb-0004", 15}, {"cus-pb-0005", 15}, {"cus-pb-0006", 10}}},
		{seg: conversation.SegmentSmallBusiness, count: 130, open: 9, close: 18, channels: chats(50, 0, 5, 20, 25),
			intents: []weighted[intent]{in("sme_lending", 60, map[string]int{"sme_lending": 3}), in("fx", 20, map[string]int{"fx": 2}), in("general", 20, nil)},
			voice:   360, patience: 180, share: 5,
			customers: []weighted[conversation.CustomerID]{{"cus-sb-0001", 1}}},
		{seg: conversation.SegmentRetailLending, count: 140, open: 9, close: 19, channels: chats(50, 0, 5, 20, 25),
			intents: []weighted[intent]{in("mortgage", 60, map[string]int{"mortgage": 3}), in("cards", 25, map[string]int{"cards": 2}), in("general", 15, nil)},
			voice:   390, patience: 180, share: 5,
			customers: []weighted[conversation.CustomerID]{{"cus-rl-0001", 1}}},
	}
}

// intraday is the relative contact rate at hour h (local, 0..24): a floor
// during opening hours, a mid-morning peak around 10:30, a larger plateau
// after lunch around 14:45 and an evening shoulder around 19:30; almost
// nothing at night.
func intraday(h float64) float64 {
	bump := func(mid, width, height float64) float64 { return height * math.Exp(-math.Pow((h-mid)/width, 2)) }
	floor := 0.12
	if h < 7 || h >= 22.5 {
		floor = 0.02
	}
	return floor + bump(10.5, 1.3, 1) + bump(14.75, 1.6, 0.85) + bump(19.5, 1.2, 0.3)
}

// SyntheticDay returns a deterministic synthetic day of a bank's remote
// branch for the demo directory (configs/demo/directory.yaml), sorted by
// At: 2,340 contacts over every segment and channel, following a realistic
// intraday curve (peaks mid-morning and after lunch, a few contacts before
// opening and after closing that routing answers with an after-hours
// action), with intents and skill requirements per segment, languages
// (yue, zh, en), lognormal handle times (calls by segment, chats and video
// longer), exponential caller patience (messaging clients on SMS and
// WeChat never abandon), and private-bank clients who are demo customers
// with own RMs (plus a few returning demo customers in other segments, so
// that last-RM routing plays). Equal seeds give equal days; the day
// shipped as configs/demo/arrivals-bank-day.jsonl is SyntheticDay(1).
func SyntheticDay(seed uint64) []Arrival {
	rng := rand.New(rand.NewPCG(seed, 0xba4bda7))
	languages := []weighted[string]{{"yue", 55}, {"zh", 25}, {"en", 20}}
	var out []Arrival
	for _, sd := range bankDay() {
		for range sd.count {
			out = append(out, sd.arrival(rng, languages))
		}
	}
	slices.SortStableFunc(out, func(a, b Arrival) int { return cmp.Compare(a.At, b.At) })
	return out
}

// arrival draws one contact of the segment.
func (sd segmentDay) arrival(rng *rand.Rand, languages []weighted[string]) Arrival {
	a := Arrival{Segment: sd.seg, At: sd.time(rng)}
	a.Channel = pick(rng, sd.channels)
	in := pick(rng, sd.intents)
	a.Intent = in.name
	if len(in.skills) > 0 {
		a.Skills = maps.Clone(in.skills)
	}
	if in.name == "complaint" {
		a.Priority = 20
	}
	if rng.IntN(100) < sd.share {
		a.Customer = pick(rng, sd.customers) // their preferred language applies
	} else {
		a.Language = pick(rng, languages)
	}
	median := sd.voice
	switch a.Channel {
	case conversation.ChannelVideo:
		median = max(900, 2.5*sd.voice)
	case conversation.ChannelSMS, conversation.ChannelWeChat, conversation.ChannelWebChat:
		median = 1.6 * sd.voice
	}
	handle := median * math.Exp(0.5*rng.NormFloat64())
	a.HandleTime = time.Duration(math.Round(min(3600, max(30, handle)))) * time.Second
	switch a.Channel {
	case conversation.ChannelVoice:
		a.Patience = patience(rng, sd.patience)
	case conversation.ChannelVideo:
		a.Patience = patience(rng, 2*sd.patience)
	case conversation.ChannelWebChat:
		a.Patience = patience(rng, 900)
	}
	return a
}

// time draws the hour of a contact from the intraday curve, restricted to
// the segment's day (3% of the rate outside it), to the second.
func (sd segmentDay) time(rng *rand.Rand) time.Duration {
	for {
		h := 24 * rng.Float64()
		rate := intraday(h)
		if h < sd.open || h >= sd.close {
			rate *= 0.03
		}
		if 2.2*rng.Float64() < rate {
			return time.Duration(h*3600) * time.Second
		}
	}
}

// patience draws an exponential patience with the given mean, at least
// 10 s, to the second.
func patience(rng *rand.Rand, mean float64) time.Duration {
	return time.Duration(math.Round(max(10, mean*rng.ExpFloat64()))) * time.Second
}

// pick draws one value by weight.
func pick[T any](rng *rand.Rand, choices []weighted[T]) T {
	total := 0
	for _, c := range choices {
		total += c.w
	}
	n := rng.IntN(total)
	for _, c := range choices {
		if n < c.w {
			return c.v
		}
		n -= c.w
	}
	return choices[len(choices)-1].v
}
