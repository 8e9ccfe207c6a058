package smsctest

import (
	"bufio"
	"fmt"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"
)

func (s *Server) accept() {
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		c := &conn{nc: nc, pending: map[int32]chan data.CommandStatusType{}}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serve(c)
		}()
	}
}

func (c *conn) write(p pdu.PDU) error {
	buf := pdu.NewBuffer(make([]byte, 0, 64))
	p.Marshal(buf)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := c.nc.Write(buf.Bytes())
	return err
}

func (s *Server) serve(c *conn) {
	defer func() {
		_ = c.nc.Close()
		s.mu.Lock()
		delete(s.conns, c)
		if s.bound == c { // deliver over another bind of the system id, if any
			s.bound = nil
			for o := range s.conns {
				if o.bound {
					s.bound = o
					break
				}
			}
		}
		s.signal()
		s.mu.Unlock()
	}()
	r := bufio.NewReader(c.nc)
	for {
		p, err := pdu.Parse(r)
		if err != nil {
			return
		}
		if !s.handle(c, p) {
			return
		}
	}
}

// handle answers one PDU; false closes the connection.
func (s *Server) handle(c *conn, p pdu.PDU) bool {
	switch req := p.(type) {
	case *pdu.BindRequest:
		return s.bind(c, req)
	case *pdu.SubmitSM:
		if !c.bound {
			resp := req.GetResponse()
			setStatus(resp, data.ESME_RINVBNDSTS)
			return c.write(resp) == nil
		}
		if resp := s.submit(c, req); resp != nil {
			s.mu.Lock()
			delay := s.submitDelay
			if delay > 0 {
				s.wg.Add(1)
			}
			s.mu.Unlock()
			if delay > 0 {
				time.AfterFunc(delay, func() {
					defer s.wg.Done()
					_ = c.write(resp)
				})
				return true
			}
			return c.write(resp) == nil
		}
		return true
	case *pdu.EnquireLink:
		s.mu.Lock()
		s.enquireLinks++
		s.signal()
		s.mu.Unlock()
		return c.write(req.GetResponse()) == nil
	case *pdu.Unbind:
		_ = c.write(req.GetResponse())
		return false
	case *pdu.DeliverSMResp:
		c.wmu.Lock()
		ch := c.pending[req.SequenceNumber]
		delete(c.pending, req.SequenceNumber)
		c.wmu.Unlock()
		if ch != nil {
			ch <- req.CommandStatus
		}
		return true
	case *pdu.EnquireLinkResp, *pdu.UnbindResp, *pdu.GenericNack:
		return true
	default:
		if p.CanResponse() {
			nack := pdu.NewGenericNack()
			nack.SetSequenceNumber(p.GetSequenceNumber())
			setStatus(nack, data.ESME_RINVCMDID)
			return c.write(nack) == nil
		}
		return true
	}
}

func (s *Server) bind(c *conn, req *pdu.BindRequest) bool {
	s.mu.Lock()
	status := s.refuse
	switch {
	case status != data.ESME_ROK:
	case c.bound:
		status = data.ESME_RALYBND
	case req.SystemID != s.cfg.SystemID:
		status = data.ESME_RINVSYSID
	case req.Password != s.cfg.Password:
		status = data.ESME_RINVPASWD
	}
	s.binds = append(s.binds, BindAttempt{SystemID: req.SystemID, Type: req.CommandID, Status: status, At: time.Now()})
	if status == data.ESME_ROK {
		c.bound = true
		s.bound = c
	}
	s.signal()
	s.mu.Unlock()
	resp := req.GetResponse().(*pdu.BindResp)
	resp.SystemID = "smsctest"
	resp.CommandStatus = status
	if err := c.write(resp); err != nil {
		return false
	}
	return status == data.ESME_ROK
}

// submit records req and returns its resp, or nil when it is held back.
func (s *Server) submit(c *conn, req *pdu.SubmitSM) pdu.PDU {
	payload, _ := req.Message.GetMessageData()
	sub := Submit{
		SourceAddr: req.SourceAddr.Address(), DestAddr: req.DestAddr.Address(),
		SourceTON: req.SourceAddr.Ton(), SourceNPI: req.SourceAddr.Npi(),
		DestTON: req.DestAddr.Ton(), DestNPI: req.DestAddr.Npi(),
		EsmClass: req.EsmClass, RegisteredDelivery: req.RegisteredDelivery,
		Payload: append([]byte(nil), payload...),
	}
	if enc := req.Message.Encoding(); enc != nil {
		sub.DataCoding = enc.DataCoding()
	}
	if udh := req.Message.UDH(); len(udh) > 0 {
		sub.UDH, _ = udh.MarshalBinary()
		sub.ConcatTotal, sub.ConcatSeq, sub.ConcatRef, _ = udh.GetConcatInfo()
	}
	resp := req.GetResponse().(*pdu.SubmitSMResp)
	s.mu.Lock()
	sub.Status = s.submitStatus
	if sub.Status == data.ESME_ROK {
		s.nextID++
		sub.ID = fmt.Sprintf("%08X", 0x5A000000+s.nextID)
	}
	s.submits = append(s.submits, sub)
	resp.MessageID = sub.ID
	resp.CommandStatus = sub.Status
	defer s.mu.Unlock()
	defer s.signal()
	if s.hold {
		s.held = append(s.held, heldResp{c: c, resp: resp})
		s.maxHeld = max(s.maxHeld, len(s.held))
		return nil
	}
	return resp
}

// setStatus sets a response PDU's command_status.
func setStatus(p pdu.PDU, st data.CommandStatusType) {
	switch r := p.(type) {
	case *pdu.SubmitSMResp:
		r.CommandStatus = st
	case *pdu.GenericNack:
		r.CommandStatus = st
	}
}
