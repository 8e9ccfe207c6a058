package routing

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// filler sets the exported fields of a value by reflection, so a field
// added to Decision or to any type inside it is filled (and so encoded by
// encoding/json in the comparisons) without the tests being touched.
type filler struct {
	t *testing.T
	r *rand.Rand
	// zeroOdds is 0 to set every field to a non-zero value (and every
	// time to one RFC 3339 can write), or n to leave about one field in n
	// at its zero value (nil or empty, at random) and about one time in 40
	// outside RFC 3339 (a year outside 0–9999, an offset of 24 h or more).
	zeroOdds int
}

func newFiller(t *testing.T, seed uint64, zeroOdds int) *filler {
	return &filler{t: t, r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), zeroOdds: zeroOdds}
}

// decision returns a Decision filled at random.
func (f *filler) decision() Decision {
	var d Decision
	f.fill(reflect.ValueOf(&d).Elem(), "Decision")
	return d
}

// fill sets v (settable) to a random value of its type; path names it in
// failures.
func (f *filler) fill(v reflect.Value, path string) {
	if f.zeroOdds > 0 && f.r.IntN(f.zeroOdds) == 0 {
		f.zero(v)
		return
	}
	if v.Type() == reflect.TypeFor[time.Time]() {
		v.Set(reflect.ValueOf(f.time()))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if sf := v.Type().Field(i); sf.IsExported() {
				f.fill(v.Field(i), path+"."+sf.Name)
			}
		}
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		f.fill(p.Elem(), path)
		v.Set(p)
	case reflect.Slice:
		n := 1 + f.r.IntN(4)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			f.fill(s.Index(i), path+"[]")
		}
		v.Set(s)
	case reflect.Array:
		for i := range v.Len() {
			f.fill(v.Index(i), path+"[]")
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range 1 + f.r.IntN(3) {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			f.fill(k, path+"{key}")
			f.fill(e, path+"{}")
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.String:
		s := f.text()
		for s == "" {
			s = f.text()
		}
		v.SetString(s)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n := f.int()
		for n == 0 || v.OverflowInt(n) {
			n = int64(int8(f.r.Uint32()))
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n := f.r.Uint64()
		for n == 0 || v.OverflowUint(n) {
			n = f.r.Uint64() >> f.r.IntN(64)
		}
		v.SetUint(n)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(f.r.IntN(1e6)+1) / 64)
	default:
		f.t.Fatalf("filler: %s is a %s: teach the filler (and Decision.AppendJSON) this kind", path, v.Kind())
	}
}

// zero sets v to its zero value, or a slice or map to an empty non-nil one
// half the time (omitempty leaves both out; without it they differ).
func (f *filler) zero(v reflect.Value) {
	switch {
	case v.Kind() == reflect.Slice && f.r.IntN(2) == 0:
		v.Set(reflect.MakeSlice(v.Type(), 0, f.r.IntN(3)))
	case v.Kind() == reflect.Map && f.r.IntN(2) == 0:
		v.Set(reflect.MakeMap(v.Type()))
	case v.Type() == reflect.TypeFor[time.Time]() && f.r.IntN(2) == 0:
		// The zero instant in another zone is still IsZero (omitzero).
		v.Set(reflect.ValueOf(time.Time{}.In(time.FixedZone("X", 3600))))
	default:
		v.SetZero()
	}
}

// int returns a random integer, often small, sometimes extreme.
func (f *filler) int() int64 {
	switch f.r.IntN(8) {
	case 0:
		return []int64{math.MinInt64, math.MaxInt64, -1, 1, math.MinInt32, math.MaxInt32}[f.r.IntN(6)]
	case 1:
		return int64(f.r.Uint64())
	case 2:
		return -int64(f.r.IntN(1000))
	default:
		return int64(f.r.IntN(200))
	}
}

// text returns a random string of plain ids and everything encoding/json
// escapes or replaces, and random bytes; sometimes empty.
func (f *filler) text() string {
	textPieces := []string{
		"rm-private_bank-001", "c0", "at capacity (100/100)", "a", " ", "/", "'", "~", "\x7f",
		`"`, `\`, "\x00", "\x01", "\b", "\f", "\n", "\r", "\t", "\x0b", "\x1f",
		"<", ">", "&", "<script>", "\u2028", "\u2029", "\u2027", "\u202a",
		"é", "中文", "粵語", "😀", "→", "\ufffd", "\ufeff",
		"\xff", "\xc3", "\xe2\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\xaf",
	}
	var b []byte
	for range f.r.IntN(6) {
		if f.r.IntN(5) == 0 {
			b = append(b, byte(f.r.Uint32()))
		} else {
			b = append(b, textPieces[f.r.IntN(len(textPieces))]...)
		}
	}
	return string(b)
}

// time returns a random non-zero time: whole seconds, milli-, micro- and
// nanosecond precision, UTC and fixed zones (including offsets with
// seconds), and, unless every field is set, now and then one RFC 3339
// cannot write.
func (f *filler) time() time.Time {
	sec := f.r.Int64N(253402300800-(-62135596800)) + -62135596800 // years 1–9999
	if f.r.IntN(4) == 0 {
		sec = 1700000000 + f.r.Int64N(1e8)
	}
	var nsec int64
	switch f.r.IntN(5) {
	case 1:
		nsec = f.r.Int64N(1000) * 1e6
	case 2:
		nsec = f.r.Int64N(1e6) * 1e3
	case 3:
		nsec = f.r.Int64N(1e9)
	case 4:
		nsec = []int64{1, 10, 100000000, 999999999, 500000000}[f.r.IntN(5)]
	}
	zones := []*time.Location{
		time.UTC, time.FixedZone("HKT", 8*3600), time.FixedZone("", -5*3600-30*60),
		time.FixedZone("odd", 3600+30), time.FixedZone("", 0), time.FixedZone("", -(23*3600 + 59*60)),
	}
	t := time.Unix(sec, nsec).In(zones[f.r.IntN(len(zones))])
	skip := 0 // 40 skips the cases RFC 3339 cannot write
	if f.zeroOdds == 0 {
		skip = 40
	}
	switch f.r.IntN(40) + skip {
	case 0:
		t = time.Date(10000+f.r.IntN(100), 1, 2, 3, 4, 5, 6, time.UTC)
	case 1:
		t = time.Date(-1-f.r.IntN(100), 1, 2, 3, 4, 5, 0, time.UTC)
	case 2:
		t = t.In(time.FixedZone("", 24*3600+f.r.IntN(3600)))
	}
	if t.IsZero() {
		t = t.Add(time.Nanosecond)
	}
	return t
}

// checkAllSet fails for every exported field inside v left at its zero
// value, so the every-field test knows it did set every field.
func checkAllSet(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	if v.IsZero() {
		t.Errorf("%s is zero; the filler must set it", path)
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			return
		}
		for i := range v.NumField() {
			if sf := v.Type().Field(i); sf.IsExported() {
				checkAllSet(t, v.Field(i), path+"."+sf.Name)
			}
		}
	case reflect.Pointer:
		checkAllSet(t, v.Elem(), path)
	case reflect.Slice, reflect.Array:
		if v.Len() == 0 {
			t.Errorf("%s is empty; the filler must set it", path)
		}
		for i := range v.Len() {
			checkAllSet(t, v.Index(i), path+"[]")
		}
	}
}
