package schema

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Addr is a parsed server address, as mcrouter's AccessPoint reads it:
// HOST:PORT[:PROTOCOL[:SECURITY[:COMPRESSION]]] where HOST is an IPv4
// address, a host name or a bracketed IPv6 address, or
// unix:PATH[:PROTOCOL[:SECURITY[:COMPRESSION]]].
type Addr struct {
	// Host is the host name or IP address (without brackets); empty for
	// unix sockets.
	Host string
	// Port is the TCP port; 0 for unix sockets.
	Port int
	// Unix is the socket path of a unix: address.
	Unix string
	// Protocol, Security and Compression are the optional suffixes as
	// written ("" when absent).
	Protocol, Security, Compression string
}

// Protocols are the protocol names mcrouter accepts today.
var protocols = []string{"ascii", "caret", "thrift", "xdp"}

// securityMechs are the security mechanisms mcrouter accepts.
var securityMechs = []string{"plain", "ssl", "tls_to_plain", "fizz", "ktls12"}

// ParseAddr parses a server address string. The error says what is wrong.
func ParseAddr(s string) (Addr, error) {
	var a Addr
	var rest []string
	switch {
	case strings.HasPrefix(s, "unix:"):
		parts := strings.Split(s[len("unix:"):], ":")
		a.Unix = parts[0]
		if a.Unix == "" {
			return Addr{}, fmt.Errorf("invalid server %q: empty unix socket path", s)
		}
		rest = parts[1:]
	case strings.HasPrefix(s, "["):
		end := strings.Index(s, "]")
		if end < 0 {
			return Addr{}, fmt.Errorf("invalid server %q: missing ']' after IPv6 address", s)
		}
		// mcrouter strips the brackets whatever they hold; IPv6
		// addresses need them.
		a.Host = s[1:end]
		if _, err := netip.ParseAddr(a.Host); err != nil && !validHostname(a.Host) || a.Host == "" {
			return Addr{}, fmt.Errorf("invalid server %q: %q is not an IP address or host name", s, a.Host)
		}
		tail := s[end+1:]
		if !strings.HasPrefix(tail, ":") {
			return Addr{}, fmt.Errorf("invalid server %q: missing :PORT", s)
		}
		parts := strings.Split(tail[1:], ":")
		port, err := parsePort(parts[0])
		if err != nil {
			return Addr{}, fmt.Errorf("invalid server %q: %w", s, err)
		}
		a.Port = port
		rest = parts[1:]
	default:
		parts := strings.Split(s, ":")
		a.Host = parts[0]
		if a.Host == "" {
			return Addr{}, fmt.Errorf("invalid server %q: empty host", s)
		}
		if len(parts) < 2 {
			return Addr{}, fmt.Errorf("invalid server %q: missing :PORT (IPv6 addresses need brackets: [::1]:11211)", s)
		}
		if !validHostname(a.Host) {
			return Addr{}, fmt.Errorf("invalid server %q: bad host name %q", s, a.Host)
		}
		port, err := parsePort(parts[1])
		if err != nil {
			return Addr{}, fmt.Errorf("invalid server %q: %w", s, err)
		}
		a.Port = port
		rest = parts[2:]
	}
	if len(rest) > 3 {
		return Addr{}, fmt.Errorf("invalid server %q: too many ':' fields", s)
	}
	if len(rest) > 0 {
		a.Protocol = rest[0]
		if !oneOf(strings.ToLower(a.Protocol), protocols) {
			return Addr{}, fmt.Errorf("invalid server %q: unknown protocol %q (want one of %s)", s, a.Protocol, strings.Join(protocols, ", "))
		}
	}
	if len(rest) > 1 {
		a.Security = rest[1]
		if !oneOf(a.Security, securityMechs) {
			return Addr{}, fmt.Errorf("invalid server %q: unknown security mechanism %q (want one of %s)", s, a.Security, strings.Join(securityMechs, ", "))
		}
		if a.Unix != "" && a.Security != "plain" {
			return Addr{}, fmt.Errorf("invalid server %q: unix sockets support only plain security", s)
		}
	}
	if len(rest) > 2 {
		a.Compression = rest[2]
		if a.Compression != "compressed" && a.Compression != "notcompressed" {
			return Addr{}, fmt.Errorf("invalid server %q: compression must be compressed or notcompressed, not %q", s, a.Compression)
		}
	}
	return a, nil
}

func parsePort(s string) (int, error) {
	if s == "" {
		return 0, fmt.Errorf("empty port")
	}
	p, err := strconv.Atoi(s)
	if err != nil || p < 0 || p > 65535 {
		return 0, fmt.Errorf("port %q is not a number in 0..65535", s)
	}
	return p, nil
}

func validHostname(h string) bool {
	if len(h) > 253 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

func oneOf(s string, set []string) bool {
	for _, x := range set {
		if s == x {
			return true
		}
	}
	return false
}

// Network returns "unix" or "tcp", for net.Dial.
func (a Addr) Network() string {
	if a.Unix != "" {
		return "unix"
	}
	return "tcp"
}

// DialAddr returns the address to pass to net.Dial.
func (a Addr) DialAddr() string {
	if a.Unix != "" {
		return a.Unix
	}
	return netJoin(a.Host, a.Port)
}

// HostPort returns host:port ([v6]:port), or unix:PATH, without the
// protocol suffixes: the form __mcrouter__.route prints.
func (a Addr) HostPort() string {
	if a.Unix != "" {
		return "unix:" + a.Unix
	}
	return netJoin(a.Host, a.Port)
}

// EffectiveProtocol returns the address's protocol, else the pool's, else
// "ascii", lower-cased.
func (a Addr) EffectiveProtocol(pool string) string {
	switch {
	case a.Protocol != "":
		return strings.ToLower(a.Protocol)
	case pool != "":
		return strings.ToLower(pool)
	}
	return "ascii"
}

func netJoin(host string, port int) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + strconv.Itoa(port)
	}
	return host + ":" + strconv.Itoa(port)
}
