package e2e

import (
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// balancer is the HTTP load balancer in front of the instances, as a
// bank would run one: each request (WebSocket upgrades included) goes
// to the next instance whose /healthz answered at the last check
// (every 200 ms); an instance that refuses a connection is taken out at
// once, and a request that found no live instance gets 502, which
// providers retry. It never retries a request itself.
type balancer struct {
	srv      *http.Server
	ln       net.Listener
	backends []*backend
	next     atomic.Uint64
	stop     chan struct{}
	wg       sync.WaitGroup
	// pick, when set, chooses the backend of a request (e.g. a video
	// room's instance); nil or a dead choice falls back to round robin.
	pick atomic.Pointer[func(*http.Request) *instance]
}

type backend struct {
	in    *instance
	proxy *httputil.ReverseProxy
	alive atomic.Bool
}

// startBalancer listens on a free loopback port in front of ins.
func startBalancer(ins ...*instance) (*balancer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &balancer{ln: ln, stop: make(chan struct{})}
	for _, in := range ins {
		u, _ := url.Parse(in.Base())
		be := &backend{in: in, proxy: httputil.NewSingleHostReverseProxy(u)}
		be.proxy.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			if ne, ok := err.(*net.OpError); ok && ne.Op == "dial" {
				be.alive.Store(false)
			}
			w.WriteHeader(http.StatusBadGateway)
		}
		be.proxy.FlushInterval = -1 // server-sent events pass at once
		be.alive.Store(in.Running())
		b.backends = append(b.backends, be)
	}
	b.srv = &http.Server{Handler: b, ReadHeaderTimeout: 10 * time.Second}
	b.wg.Add(2)
	go func() { defer b.wg.Done(); _ = b.srv.Serve(ln) }()
	go func() { defer b.wg.Done(); b.check() }()
	return b, nil
}

// URL is the balancer's base URL: the cluster's public URL.
func (b *balancer) URL() string { return "http://" + b.ln.Addr().String() }

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f := b.pick.Load(); f != nil {
		if in := (*f)(r); in != nil {
			for _, be := range b.backends {
				if be.in == in && be.alive.Load() {
					be.proxy.ServeHTTP(w, r)
					return
				}
			}
		}
	}
	n := uint64(len(b.backends))
	start := b.next.Add(1)
	for i := range n {
		be := b.backends[(start+i)%n]
		if be.alive.Load() {
			be.proxy.ServeHTTP(w, r)
			return
		}
	}
	w.WriteHeader(http.StatusBadGateway)
}

// check marks each backend alive or not from its /healthz.
func (b *balancer) check() {
	c := http.Client{Timeout: time.Second}
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		for _, be := range b.backends {
			res, err := c.Get(be.in.Base() + "/healthz")
			ok := err == nil && res.StatusCode == http.StatusOK
			if res != nil {
				res.Body.Close()
			}
			be.alive.Store(ok)
		}
		select {
		case <-b.stop:
			return
		case <-t.C:
		}
	}
}

// Close stops the balancer.
func (b *balancer) Close() {
	close(b.stop)
	_ = b.srv.Close()
	b.wg.Wait()
}
