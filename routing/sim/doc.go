// Package sim replays a day of arrivals through the real routing code on a
// virtual clock and reports the service it would give: per segment the
// conversations offered (entering the queue), answered, abandoned and
// fallen back, the service level against the segment's wait budget, the
// average speed of answer and handle time and the abandonment rate, and
// per team the occupancy of its RMs.
//
// Decisions are made by routing.Assign on snapshots built with
// routing.NewSnapshot, exactly as the gateway makes them; the simulation
// plays the RMs (answer delay, missed offers, handle time, wrap-up) and the
// clients (patience). It is discrete-event: nothing happens between events
// (arrivals, accepts, offer expiries, ends of service and wrap-up, step
// changes, abandonment, teams opening and closing), and there is no fixed
// tick. It reads no clock and no global random source: the same arrivals,
// directory, policies and Options (Seed included) give the same Report.
//
// Arrivals are JSON lines (see Arrival, ReadArrivals); SyntheticDay
// generates the example bank day shipped as
// configs/demo/arrivals-bank-day.jsonl.
package sim
