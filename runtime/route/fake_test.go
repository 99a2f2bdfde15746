package route

import (
	"context"
	"strings"
	"testing"

	"github.com/mcroute/mcroute/runtime/mc"
)

func TestFakeStateful(t *testing.T) {
	f := NewFake()
	f.Stateful = true
	d, _ := f.Dest(DestInfo{Pool: "A", Server: "a:1"})
	send := func(op mc.Op, key, value string, delta uint64) string {
		var rep mc.Reply
		d.Send(context.Background(), &mc.Request{Op: op, Key: []byte(key), Value: []byte(value), Delta: delta}, []byte(key), &rep)
		if len(rep.Value) > 0 {
			return rep.Result.String() + " " + string(rep.Value)
		}
		return rep.Result.String()
	}
	steps := []struct {
		op         mc.Op
		key, value string
		delta      uint64
		want       string
	}{
		{mc.OpGet, "k", "", 0, "notfound"},
		{mc.OpAdd, "k", "1", 0, "stored"},
		{mc.OpAdd, "k", "2", 0, "notstored"},
		{mc.OpAppend, "k", "0", 0, "stored"},
		{mc.OpPrepend, "k", "2", 0, "stored"},
		{mc.OpGet, "k", "", 0, "found 210"},
		{mc.OpIncr, "k", "", 5, "stored 215"},
		{mc.OpDecr, "k", "", 300, "stored 0"},
		{mc.OpReplace, "nope", "x", 0, "notstored"},
		{mc.OpTouch, "k", "", 0, "touched"},
		{mc.OpDelete, "k", "", 0, "deleted"},
		{mc.OpDelete, "k", "", 0, "notfound"},
		{mc.OpSet, "s", "text", 0, "stored"},
		{mc.OpIncr, "s", "", 1, "client_error"},
		{mc.OpFlushAll, "", "", 0, "ok"},
		{mc.OpGet, "s", "", 0, "notfound"},
	}
	for i, s := range steps {
		if got := send(s.op, s.key, s.value, s.delta); got != s.want {
			t.Errorf("step %d: %s %s: got %q, want %q", i, s.op, s.key, got, s.want)
		}
	}
	f.Results["A[0]"] = mc.ResBusy
	if got := send(mc.OpGet, "k", "", 0); got != "busy" {
		t.Errorf("Results override: %s", got)
	}
	if n := len(f.Calls()); n != len(steps)+1 {
		t.Errorf("%d calls recorded", n)
	}
	f.Reset()
	if len(f.Calls()) != 0 {
		t.Error("Reset")
	}
}

func TestMigrateLeaseInvalidation(t *testing.T) {
	route := `{"type": "MigrateRoute", "from": "PoolRoute|A", "to": "PoolRoute|B", "start_time": 1000000, "interval": 1}`
	e := newEnv(t, withPools(route))
	e.clock.set(1000005) // after the switch, within 10 s of it
	e.f.Results["b:1"] = mc.ResNotStored
	r := req(mc.OpLeaseSet, "k")
	r.CAS = 42
	_, hops, _ := e.traced(r)
	if strings.Join(hops, ",") != "B[0] notstored,& A[0] stored" {
		t.Errorf("hops %q", hops)
	}
	calls := e.f.Calls()
	if c := calls[len(calls)-1]; c.Exptime != -1 || c.Op != mc.OpLeaseSet {
		t.Errorf("invalidation %+v", c)
	}
}
