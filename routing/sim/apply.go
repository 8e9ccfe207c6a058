package sim

import (
	"slices"
)

// apply carries out one event, marking the engine dirty when the event
// can change a decision (a conversation to decide, capacity or presence
// that changed, a step that changed).
func (e *engine) apply(ev event) {
	switch ev.kind {
	case evHours:
		e.dirty = true
	case evBack:
		r := &e.rms[ev.rm]
		r.away, r.missed = false, 0
		r.awayTotal += e.now.Sub(r.awaySince)
		e.dirty = true
	case evArrival:
		e.arrive(ev.conv)
	case evStep:
		if c := &e.convs[ev.conv]; c.state == stateWaiting && c.nextStep.Equal(ev.at) {
			e.dirty = true
		}
	case evAccept:
		c := &e.convs[ev.conv]
		if c.state != stateOffered || c.seq != ev.seq {
			return
		}
		c.state, c.answeredAt = stateAnswered, e.now
		e.rms[c.rm].missed = 0
		e.q.push(event{at: e.now.Add(c.arr.HandleTime), kind: evDone, conv: ev.conv})
	case evExpire:
		c := &e.convs[ev.conv]
		if c.state != stateOffered || c.seq != ev.seq {
			return
		}
		e.missed(ev.conv)
	case evAbandon:
		c := &e.convs[ev.conv]
		switch c.state {
		case stateOffered:
			// The offer in flight is withdrawn; it is not the RM's miss.
			e.rms[c.rm].load -= c.cost
			e.dirty = true
		case stateWaiting:
		default:
			return
		}
		c.state, c.leftAt = stateAbandoned, e.now
		e.end(c)
	case evDone:
		c := &e.convs[ev.conv]
		if cust := c.view.CustomerID; cust != "" {
			e.last[cust] = lastServed{rm: e.rms[c.rm].rm.ID, at: e.now}
		}
		if e.opts.ACW > 0 {
			e.q.push(event{at: e.now.Add(e.opts.ACW), kind: evWrapEnd, conv: ev.conv})
			return
		}
		e.release(c)
	case evWrapEnd:
		e.release(&e.convs[ev.conv])
	}
}

// arrive queues conversation ci: its customer's last RM (within routing's
// last-RM window, which Decide applies) and its patience timer.
func (e *engine) arrive(ci int) {
	c := &e.convs[ci]
	if last, ok := e.last[c.view.CustomerID]; ok && c.view.CustomerID != "" {
		c.view.LastRM, c.view.LastRMAt = last.rm, last.at
	}
	e.queue(ci)
	if p := c.arr.Patience; p > 0 {
		e.q.push(event{at: c.view.QueuedAt.Add(p), kind: evAbandon, conv: ci})
	}
}

// queue puts conversation ci in the waiting list.
func (e *engine) queue(ci int) {
	c := &e.convs[ci]
	c.state = stateWaiting
	if !c.listed {
		c.listed = true
		e.waiting = append(e.waiting, ci)
	}
	e.dirty = true
}

// missed handles an offer that timed out: the RM's capacity comes back,
// they join the conversation's declined list, and after MaxMissedOffers in
// a row they are set away until a supervisor puts them back (AwayFor).
func (e *engine) missed(ci int) {
	c := &e.convs[ci]
	r := &e.rms[c.rm]
	r.load -= c.cost
	r.missed++
	e.rep.MissedOffers++
	c.view.Declined = append(slices.Clip(c.view.Declined), r.rm.ID)
	if e.p.NotResponding(r.missed) && !r.away {
		r.away, r.awaySince = true, e.now
		e.rep.NotResponding++
		e.q.push(event{at: e.now.Add(e.opts.AwayFor), kind: evBack, rm: c.rm})
	}
	e.queue(ci)
}

// release ends a served conversation: its cost leaves the RM's load and
// the time served plus wrap-up counts towards their team's occupancy.
func (e *engine) release(c *simConv) {
	r := &e.rms[c.rm]
	r.load -= c.cost
	r.idleSince = e.now
	r.busy += e.now.Sub(c.answeredAt).Seconds() * float64(c.cost) / float64(r.capacity)
	r.answered++
	c.state, c.releasedAt = stateServed, e.now
	e.dirty = true
	e.end(c)
}

// end counts a conversation that has ended and reports progress every 2%.
func (e *engine) end(c *simConv) {
	if c.leftAt.IsZero() {
		c.leftAt = e.now
	}
	e.ended++
	if e.opts.Progress == nil {
		return
	}
	if b := e.ended * 50 / len(e.convs); b > e.bucket {
		e.bucket, e.reported = b, e.ended
		e.opts.Progress(e.ended, len(e.convs))
	}
}
