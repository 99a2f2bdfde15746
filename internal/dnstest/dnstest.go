// Package dnstest runs a small authoritative DNS server on 127.0.0.1 for
// tests, whose answers (A, AAAA and SRV records) the test can change while
// it runs.
package dnstest

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// Server answers DNS queries over UDP from its record tables.
type Server struct {
	// Addr is the server's 127.0.0.1:port.
	Addr string

	pc      net.PacketConn
	mu      sync.Mutex
	hosts   map[string][]netip.Addr
	srvs    map[string][]net.SRV
	queries int
}

// Start runs a server until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: pc.LocalAddr().String(), pc: pc, hosts: map[string][]netip.Addr{}, srvs: map[string][]net.SRV{}}
	go s.serve()
	t.Cleanup(func() { pc.Close() })
	return s
}

func fqdn(name string) string {
	if !strings.HasSuffix(name, ".") {
		return name + "."
	}
	return name
}

// SetHost sets the A/AAAA records of name.
func (s *Server) SetHost(name string, addrs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var as []netip.Addr
	for _, a := range addrs {
		as = append(as, netip.MustParseAddr(a))
	}
	s.hosts[fqdn(name)] = as
}

// SetSRV sets the SRV records of name (e.g. "_memcache._tcp.svc.local").
func (s *Server) SetSRV(name string, records ...net.SRV) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.srvs[fqdn(name)] = records
}

// Queries returns how many queries were answered.
func (s *Server) Queries() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries
}

// Resolver returns a resolver that asks only this server.
func (s *Server) Resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", s.Addr)
	}}
}

func (s *Server) serve() {
	buf := make([]byte, 1500)
	for {
		n, from, err := s.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		if resp, ok := s.answer(buf[:n]); ok {
			_, _ = s.pc.WriteTo(resp, from)
		}
	}
}

func (s *Server) answer(req []byte) ([]byte, bool) {
	var p dnsmessage.Parser
	h, err := p.Start(req)
	if err != nil {
		return nil, false
	}
	q, err := p.Question()
	if err != nil {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queries++
	name := q.Name.String()
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true})
	b.EnableCompression()
	_ = b.StartQuestions()
	_ = b.Question(q)
	_ = b.StartAnswers()
	rh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 1}
	found := false
	switch q.Type {
	case dnsmessage.TypeA:
		for _, a := range s.hosts[name] {
			if a.Is4() {
				found = true
				_ = b.AResource(rh, dnsmessage.AResource{A: a.As4()})
			}
		}
	case dnsmessage.TypeAAAA:
		for _, a := range s.hosts[name] {
			if a.Is6() && !a.Is4In6() {
				found = true
				_ = b.AAAAResource(rh, dnsmessage.AAAAResource{AAAA: a.As16()})
			}
		}
	case dnsmessage.TypeSRV:
		for _, r := range s.srvs[name] {
			found = true
			_ = b.SRVResource(rh, dnsmessage.SRVResource{Priority: r.Priority, Weight: r.Weight, Port: r.Port,
				Target: dnsmessage.MustNewName(fqdn(r.Target))})
		}
	}
	_, known := s.hosts[name]
	_, knownSRV := s.srvs[name]
	if !found && !known && !knownSRV {
		b = dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RCode: dnsmessage.RCodeNameError})
		_ = b.StartQuestions()
		_ = b.Question(q)
	}
	out, err := b.Finish()
	return out, err == nil
}
