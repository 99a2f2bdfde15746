package mcrouterjson

import (
	"github.com/mcroute/mcroute/compiler/jsonm"
	"github.com/mcroute/mcroute/internal/diag"
	"github.com/mcroute/mcroute/internal/suggest"
	"github.com/mcroute/mcroute/runtime/mc"
	"github.com/mcroute/mcroute/schema"
)

// kindDecoder reads the options of one route object (or the rest of a short
// form, when short is set).
type kindDecoder struct {
	d     *decoder
	path  string
	v     *jsonm.Value
	typ   string
	info  schema.KindInfo
	pos   schema.Pos
	short bool
	// named is set for the definition of an object-form named handle,
	// whose name mcrouter injects from its key.
	named bool
	used  map[string]bool
}

func (k *kindDecoder) use(keys ...string) {
	if k.used == nil {
		k.used = map[string]bool{}
	}
	for _, key := range keys {
		k.used[key] = true
	}
}

// get returns the option named key (marking it used), or nil.
func (k *kindDecoder) get(key string) *jsonm.Value {
	if k.short {
		return nil
	}
	k.use(key)
	return k.v.Get(key)
}

func (k *kindDecoder) at(key string) string { return join(k.path, key) }

func (k *kindDecoder) require(key string) *jsonm.Value {
	v := k.get(key)
	if v == nil && !k.short {
		k.d.errorf(k.path, k.v, RuleRequiredField, "%s needs %q", k.typ, key)
	}
	return v
}

func (k *kindDecoder) str(key string) string {
	if v := k.get(key); v != nil {
		s, _ := k.d.wantString(k.at(key), v)
		return s
	}
	return ""
}

func (k *kindDecoder) boolean(key string) bool {
	if v := k.get(key); v != nil {
		b, _ := k.d.wantBool(k.at(key), v)
		return b
	}
	return false
}

func (k *kindDecoder) boolPtr(key string) *bool {
	if v := k.get(key); v != nil {
		if b, ok := k.d.wantBool(k.at(key), v); ok {
			return &b
		}
	}
	return nil
}

func (k *kindDecoder) integer(key string, min, max int64) (int64, bool) {
	v := k.get(key)
	if v == nil {
		return 0, false
	}
	n, ok := k.d.wantInt(k.at(key), v)
	if ok && (n < min || n > max) {
		k.d.errorf(k.at(key), v, RuleInvalidValue, "%s %d is out of range %d..%d", key, n, min, max)
	}
	return n, ok
}

func (k *kindDecoder) routeOpt(key string) schema.Route {
	if v := k.get(key); v != nil {
		return k.d.one(k.at(key), v)
	}
	return nil
}

func (k *kindDecoder) routeReq(key string) schema.Route {
	if v := k.require(key); v != nil {
		return k.d.one(k.at(key), v)
	}
	return nil
}

func (k *kindDecoder) routeList(key string) []schema.Route {
	if v := k.get(key); v != nil {
		return k.d.list(k.at(key), v)
	}
	return nil
}

// children returns the children of a short form (the rest of the string)
// or of the "children" option.
func (k *kindDecoder) children(required bool) []schema.Route {
	if k.short {
		return k.d.list(k.path, k.v)
	}
	if required {
		if v := k.require("children"); v != nil {
			return k.d.list(k.at("children"), v)
		}
		return nil
	}
	return k.routeList("children")
}

// routeMap decodes an object of name → route. With ops set, keys must be
// mcrouter operation names.
func (k *kindDecoder) routeMap(key string, ops bool) map[string]schema.Route {
	v := k.get(key)
	if v == nil {
		return nil
	}
	p := k.at(key)
	if v.Kind != jsonm.Object {
		k.d.errorf(p, v, RuleInvalidValue, "%s must be an object, not %s", key, v.Kind)
		return nil
	}
	k.d.duplicates(p, v)
	out := map[string]schema.Route{}
	for _, m := range v.Obj {
		mp := join(p, m.Key)
		if ops {
			if _, ok := mc.ParseOp(m.Key); !ok {
				k.d.diags = append(k.d.diags, diag.Diagnostic{Pos: k.d.keyPos(mp, m), Severity: diag.Error, Rule: RuleUnknownOperation, Path: mp,
					Message: "unknown operation \"" + m.Key + "\" in operation_policies" + suggest.Hint(m.Key, validOps())})
				continue
			}
		}
		if r := k.d.one(mp, m.Value); r != nil {
			out[m.Key] = r
		}
	}
	return out
}

// finish records options that were not consumed: known ones are kept in
// Extra; unknown ones are reported and kept too.
func (k *kindDecoder) finish(b *schema.Base) {
	if k.v.Kind != jsonm.Object {
		return
	}
	for _, m := range k.v.Obj {
		if m.Key == "type" || m.Key == "name" || k.used[m.Key] {
			continue
		}
		if !contains(k.info.Fields, m.Key) {
			hint := suggest.Hint(m.Key, k.info.Fields)
			mp := join(k.path, m.Key)
			if k.d.opts.Dialect == Policy {
				k.d.diags = append(k.d.diags, diag.Diagnostic{Pos: k.d.keyPos(mp, m), Severity: diag.Error, Rule: RuleUnknownField, Path: mp,
					Message: "unknown field \"" + m.Key + "\" for " + k.typ + hint})
				continue
			}
			k.d.diags = append(k.d.diags, diag.Diagnostic{Pos: k.d.keyPos(mp, m), Severity: diag.Warning, Rule: RuleUnknownField, Path: mp,
				Message: "unknown field \"" + m.Key + "\" for " + k.typ + " is ignored by mcrouter" + hint})
		}
		addExtra(&b.Extra, m.Key, m.Value)
	}
}

var hashFuncs = []string{"Ch3", "Crc32", "WeightedCh3", "WeightedCh3Rv", "ConstShard", "Rendezvous", "WeightedRendezvous", "Latest", "LoadBalancer"}

// removedHashFuncs were accepted by older mcrouter releases.
var removedHashFuncs = []string{"Shard"}

// HashFuncs returns the hash_func names mcrouter accepts.
func HashFuncs() []string { return append([]string(nil), hashFuncs...) }

func (d *decoder) checkHashFunc(path string, v *jsonm.Value, f string) {
	if contains(removedHashFuncs, f) {
		d.warnf(path, v, RuleRemovedType, "hash function %q was removed from mcrouter; current releases reject it (use one of %v)", f, hashFuncs)
		return
	}
	if !contains(hashFuncs, f) {
		d.errorf(path, v, RuleInvalidValue, "unknown hash function %q%s (hash functions are case-sensitive: %v)", f, suggest.Hint(f, hashFuncs), hashFuncs)
	}
}

// hashSpec decodes PoolRoute's "hash": a hash_func name or an object.
func (d *decoder) hashSpec(path string, v *jsonm.Value) *schema.Hash {
	switch v.Kind {
	case jsonm.String:
		d.checkHashFunc(path, v, v.Str)
		return &schema.Hash{Func: v.Str}
	case jsonm.Object:
		h := &schema.Hash{}
		for _, m := range v.Obj {
			fp := join(path, m.Key)
			switch m.Key {
			case "hash_func":
				if s, ok := d.wantString(fp, m.Value); ok {
					d.checkHashFunc(fp, m.Value, s)
					h.Func = s
				}
			case "salt":
				h.Salt, _ = d.wantString(fp, m.Value)
			case "weights":
				h.Weights = d.weights(fp, m.Value)
			default:
				addExtra(&h.Extra, m.Key, m.Value)
			}
		}
		return h
	}
	d.errorf(path, v, RuleInvalidValue, "hash must be a hash_func name or an object, not %s", v.Kind)
	return nil
}

func (d *decoder) rates(path string, v *jsonm.Value) *schema.Rates {
	if v.Kind != jsonm.Object {
		d.errorf(path, v, RuleInvalidValue, "rates must be an object, not %s", v.Kind)
		return nil
	}
	r := &schema.Rates{}
	for _, m := range v.Obj {
		fp := join(path, m.Key)
		f, ok := d.wantFloat(fp, m.Value)
		if !ok {
			continue
		}
		if f < 0 {
			d.errorf(fp, m.Value, RuleInvalidValue, "%s must not be negative", m.Key)
		}
		p := &f
		switch m.Key {
		case "gets_rate":
			r.GetsRate = p
		case "gets_burst":
			r.GetsBurst = p
		case "sets_rate":
			r.SetsRate = p
		case "sets_burst":
			r.SetsBurst = p
		case "deletes_rate":
			r.DeletesRate = p
		case "deletes_burst":
			r.DeletesBurst = p
		default:
			d.warnf(fp, m.Value, RuleUnknownField, "unknown rates field %q%s", m.Key,
				suggest.Hint(m.Key, []string{"gets_rate", "gets_burst", "sets_rate", "sets_burst", "deletes_rate", "deletes_burst"}))
		}
	}
	return r
}

// shadows decodes a shadows list. mcrouter logs and skips invalid entries,
// so problems inside an entry are warnings and the entry is dropped.
func (d *decoder) shadows(path string, v *jsonm.Value) []schema.Shadow {
	if v.Kind != jsonm.Array {
		d.errorf(path, v, RuleInvalidValue, "shadows must be a list, not %s", v.Kind)
		return nil
	}
	var out []schema.Shadow
	for i, e := range v.Arr {
		p := index(path, i)
		mark := len(d.diags)
		s, ok := d.shadow(p, e)
		bad := false
		for j := mark; j < len(d.diags); j++ {
			if d.diags[j].Severity == diag.Error {
				d.diags[j].Severity = diag.Warning
				d.diags[j].Message += "; mcrouter skips this shadow"
				bad = true
			}
		}
		if ok && !bad {
			out = append(out, s)
		}
	}
	return out
}

// shadowFields are the keys of a shadow that mcrouter reads.
var shadowFields = []string{"target", "index_range", "key_fraction_range", "key_fraction_range_rv", "keys_to_shadow", "requests_fraction"}

// ShadowFields returns the keys of a shadow entry that mcrouter reads.
func ShadowFields() []string { return append([]string(nil), shadowFields...) }

func (d *decoder) shadow(p string, e *jsonm.Value) (schema.Shadow, bool) {
	s := schema.Shadow{Pos: d.pos(p, e)}
	if e.Kind != jsonm.Object {
		d.warnf(p, e, RuleInvalidValue, "shadow entry must be an object; mcrouter skips it")
		return s, false
	}
	pair := func(fp string, v *jsonm.Value) ([]float64, bool) {
		fs := d.wantFloats(fp, v)
		if len(fs) != 2 || len(fs) != v.Len() {
			if v.Kind == jsonm.Array {
				d.errorf(fp, v, RuleInvalidValue, "want [start, end]")
			}
			return nil, false
		}
		return fs, true
	}
	for _, m := range e.Obj {
		fp := join(p, m.Key)
		switch m.Key {
		case "target":
			s.Target = d.one(fp, m.Value)
		case "index_range":
			if fs, ok := pair(fp, m.Value); ok {
				s.IndexRange = [2]int{int(fs[0]), int(fs[1])}
			}
		case "key_fraction_range":
			if fs, ok := pair(fp, m.Value); ok {
				if fs[0] >= 0 && fs[0] <= fs[1] && fs[1] <= 1 {
					s.KeyFractionRange = [2]float64{fs[0], fs[1]}
				} else {
					d.errorf(fp, m.Value, RuleInvalidValue, "key_fraction_range must be [lo, hi] with 0 <= lo <= hi <= 1")
				}
			}
		case "keys_to_shadow":
			if m.Value.Kind == jsonm.String {
				s.KeysToShadow = []string{m.Value.Str}
			} else {
				s.KeysToShadow = d.wantStrings(fp, m.Value)
			}
		case "requests_fraction":
			if f, ok := d.wantFloat(fp, m.Value); ok {
				s.RequestsFraction = &f
			}
		case "key_fraction_range_rv":
			if _, ok := d.wantString(fp, m.Value); ok {
				addExtra(&s.Extra, m.Key, m.Value)
			}
		default:
			if d.opts.Dialect == Policy {
				// The policy's schema reports it.
				continue
			}
			d.warnf(fp, m.Value, RuleUnknownField, "unknown shadow field %q is ignored by mcrouter%s", m.Key, suggest.Hint(m.Key, shadowFields))
			addExtra(&s.Extra, m.Key, m.Value)
		}
	}
	if len(s.KeysToShadow) > 0 {
		// keys_to_shadow applies to every server; mcrouter refuses a
		// shadow that also selects by index or key hash
		// (ShadowSettings::create).
		for _, k := range []string{"index_range", "key_fraction_range", "key_fraction_range_rv"} {
			if v := e.Get(k); v != nil {
				d.errorf(join(p, k), v, RuleInvalidValue, "a shadow with keys_to_shadow cannot have %s (keys_to_shadow applies to every server)", k)
			}
		}
	}
	if s.Target == nil {
		if e.Get("target") == nil {
			d.errorf(p, e, RuleRequiredField, "shadow entry needs a \"target\"")
		}
		return s, false
	}
	return s, true
}

func (d *decoder) resultNames(path string, v *jsonm.Value) []string {
	names := d.wantStrings(path, v)
	for i, n := range names {
		if r, ok := mc.ParseResult(n); !ok || len(n) > 7 && n[:7] == "mc_res_" {
			var all []string
			for _, x := range mc.AllResults() {
				all = append(all, x.String())
			}
			msg := "unknown result %q%s"
			if ok {
				msg = "write result %q without the mc_res_ prefix%s"
			}
			_ = r
			d.errorf(index(path, i), v.Arr[i], RuleInvalidValue, msg, n, suggest.Hint(n, all))
		}
	}
	return names
}

func (k *kindDecoder) failoverOptions() schema.FailoverOptions {
	var o schema.FailoverOptions
	d := k.d
	if v := k.get("failover_errors"); v != nil {
		p := k.at("failover_errors")
		fe := &schema.FailoverErrors{}
		switch v.Kind {
		case jsonm.Array:
			l := d.resultNames(p, v)
			fe.Gets, fe.Updates, fe.Deletes = l, l, l
		case jsonm.Object:
			fe.Object = true
			for _, m := range v.Obj {
				fp := join(p, m.Key)
				switch m.Key {
				case "gets":
					fe.Gets = d.resultNames(fp, m.Value)
				case "updates":
					fe.Updates = d.resultNames(fp, m.Value)
				case "deletes":
					fe.Deletes = d.resultNames(fp, m.Value)
				default:
					d.errorf(fp, m.Value, RuleUnknownField, "failover_errors keys are gets, updates and deletes, not %q", m.Key)
				}
			}
		default:
			d.errorf(p, v, RuleInvalidValue, "failover_errors must be a list of results or an object {gets, updates, deletes}")
		}
		o.FailoverErrors = fe
	}
	if v := k.get("failover_limit"); v != nil {
		p := k.at("failover_limit")
		if v.Kind != jsonm.Object {
			d.errorf(p, v, RuleInvalidValue, "failover_limit must be an object {rate, burst}")
		} else {
			fl := &schema.FailoverLimit{}
			for _, m := range v.Obj {
				fp := join(p, m.Key)
				switch m.Key {
				case "rate":
					fl.Rate, _ = d.wantFloat(fp, m.Value)
				case "burst":
					if f, ok := d.wantFloat(fp, m.Value); ok {
						fl.Burst = &f
					}
				default:
					d.warnf(fp, m.Value, RuleUnknownField, "unknown failover_limit field %q (want rate, burst)", m.Key)
				}
			}
			if v.Get("rate") == nil {
				d.errorf(p, v, RuleRequiredField, "failover_limit needs \"rate\"")
			}
			o.FailoverLimit = fl
		}
	}
	if v := k.get("failover_policy"); v != nil {
		o.FailoverPolicy = d.failoverPolicy(k.at("failover_policy"), v)
	}
	o.FailoverTag = k.boolean("failover_tag")
	o.EnableLeasePairing = k.boolean("enable_lease_pairing")
	if o.EnableLeasePairing && !k.named && (k.short || k.v.Get("name") == nil) {
		d.errorf(k.path, k.v, RuleRequiredField, "enable_lease_pairing needs the route to have a \"name\"")
	}
	return o
}

var failoverPolicyTypes = []string{"DeterministicOrderPolicy", "LeastFailuresPolicy", "RendezvousPolicy"}

func (d *decoder) failoverPolicy(path string, v *jsonm.Value) *schema.FailoverPolicy {
	if v.Kind != jsonm.Object {
		d.errorf(path, v, RuleInvalidValue, "failover_policy must be an object with a \"type\"")
		return nil
	}
	fp := &schema.FailoverPolicy{Pos: d.pos(path, v)}
	for _, m := range v.Obj {
		p := join(path, m.Key)
		switch m.Key {
		case "type":
			if s, ok := d.wantString(p, m.Value); ok {
				fp.Type = s
				if !contains(failoverPolicyTypes, s) {
					d.warnf(p, m.Value, RuleInvalidValue, "unknown failover policy %q%s; mcrouter then tries children in order", s, suggest.Hint(s, failoverPolicyTypes))
				}
			}
		case "max_tries":
			if n, ok := d.wantInt(p, m.Value); ok {
				fp.MaxTries = int(n)
			}
		case "max_error_tries":
			if n, ok := d.wantInt(p, m.Value); ok {
				fp.MaxErrorTries = int(n)
			}
		case "exclude_errors":
			fp.ExcludeErrors = d.resultNames(p, m.Value)
		case "enable_failure_domains":
			fp.EnableFailureDomains, _ = d.wantBool(p, m.Value)
		case "ignore_normal_reply_index":
			fp.IgnoreNormalReplyIndex, _ = d.wantBool(p, m.Value)
		case "hash":
			fp.Hash = d.hashSpec(p, m.Value)
		case "tags":
			fp.Tags = d.wantStrings(p, m.Value)
		default:
			addExtra(&fp.Extra, m.Key, m.Value)
		}
	}
	switch fp.Type {
	case "DeterministicOrderPolicy":
		for _, req := range []string{"max_tries", "max_error_tries"} {
			if v.Get(req) == nil {
				d.errorf(path, v, RuleRequiredField, "DeterministicOrderPolicy needs %q", req)
			}
		}
	case "LeastFailuresPolicy":
		if v.Get("max_tries") == nil {
			d.errorf(path, v, RuleRequiredField, "LeastFailuresPolicy needs \"max_tries\"")
		}
	case "":
		d.errorf(path, v, RuleRequiredField, "failover_policy needs a \"type\"")
	}
	return fp
}

func (k *kindDecoder) base() schema.Base { return schema.Base{Pos: k.pos} }

// decode dispatches on the kind.
func (k *kindDecoder) decode() schema.Route {
	d := k.d
	switch k.typ {
	case "PoolRoute":
		r := &schema.PoolRoute{Base: k.base()}
		if k.short {
			r.Pool = d.poolRef(k.path, k.v)
			return r
		}
		if v := k.require("pool"); v != nil {
			r.Pool = d.poolRef(k.at("pool"), v)
		}
		if v := k.get("hash"); v != nil {
			r.Hash = d.hashSpec(k.at("hash"), v)
		}
		if v := k.get("shadows"); v != nil {
			r.Shadows = d.shadows(k.at("shadows"), v)
		}
		r.ShadowPolicy = k.str("shadow_policy")
		if v := k.get("rates"); v != nil {
			r.Rates = d.rates(k.at("rates"), v)
		}
		r.Asynclog = k.boolPtr("asynclog")
		r.AsynclogName = k.str("asynclog_name")
		if v := k.get("shard_splits"); v != nil {
			r.ShardSplits = d.shardSplits(k.at("shard_splits"), v)
		}
		k.bucketize(r)
		if v := k.get("slow_warmup"); v != nil {
			r.SlowWarmup = d.slowWarmup(k.at("slow_warmup"), v)
		}
		return r
	case "Pool":
		r := &schema.PoolList{Base: k.base()}
		switch {
		case k.short:
			r.Pool = d.poolRef(k.path, k.v)
		case d.opts.Dialect == Policy:
			if v := k.require("pool"); v != nil {
				r.Pool = d.poolRef(k.at("pool"), v)
			}
		default:
			// mcrouter: the object is an inline pool definition.
			r.Pool = d.poolRef(k.path, k.v)
			for _, m := range k.v.Obj {
				k.use(m.Key)
			}
		}
		if r.Pool == "" {
			return nil
		}
		return r
	case "HashRoute":
		r := &schema.HashRoute{Base: k.base()}
		r.Children = k.children(true)
		if !k.short {
			if s := k.str("hash_func"); s != "" {
				d.checkHashFunc(k.at("hash_func"), k.v.Get("hash_func"), s)
				r.Hash.Func = s
			}
			r.Hash.Salt = k.str("salt")
			if v := k.get("weights"); v != nil {
				r.Hash.Weights = d.weights(k.at("weights"), v)
			}
			r.ErrorOnEmpty = k.boolPtr("error_on_empty")
		}
		return r
	case "AllSyncRoute":
		return &schema.AllSyncRoute{Base: k.base(), Children: k.children(true)}
	case "AllAsyncRoute":
		return &schema.AllAsyncRoute{Base: k.base(), Children: k.children(true)}
	case "AllInitialRoute":
		return &schema.AllInitialRoute{Base: k.base(), Children: k.children(true)}
	case "AllFastestRoute":
		return &schema.AllFastestRoute{Base: k.base(), Children: k.children(true)}
	case "AllMajorityRoute":
		return &schema.AllMajorityRoute{Base: k.base(), Children: k.children(true)}
	case "RandomRoute":
		return &schema.RandomRoute{Base: k.base(), Children: k.children(true)}
	case "FailoverRoute":
		r := &schema.FailoverRoute{Base: k.base(), Children: k.children(true)}
		if !k.short {
			r.FailoverOptions = k.failoverOptions()
		}
		return r
	case "MissFailoverRoute":
		r := &schema.MissFailoverRoute{Base: k.base(), Children: k.children(true)}
		r.ReturnBestOnError = k.boolean("return_best_on_error")
		return r
	case "FailoverWithExptimeRoute":
		r := &schema.FailoverWithExptimeRoute{Base: k.base()}
		r.Normal = k.routeReq("normal")
		r.Failover = k.routeList("failover")
		if n, ok := k.integer("failover_exptime", -1<<31, 1<<31-1); ok {
			r.FailoverExptime = &n
		}
		r.FailoverOptions = k.failoverOptions()
		return r
	case "LatestRoute":
		r := &schema.LatestRoute{Base: k.base(), Children: k.children(true)}
		if !k.short {
			if n, ok := k.integer("failover_count", 0, 1<<20); ok {
				c := int(n)
				r.FailoverCount = &c
			}
			r.Salt = k.str("salt")
			r.ThreadLocalFailover = k.boolean("thread_local_failover")
			if v := k.get("weights"); v != nil {
				r.Weights = d.weights(k.at("weights"), v)
			}
			r.FailoverOptions = k.failoverOptions()
		}
		return r
	case "HostIdRoute":
		r := &schema.HostIDRoute{Base: k.base(), Children: k.children(true)}
		r.Salt = k.str("salt")
		return r
	case "OperationSelectorRoute", "PrefixPolicyRoute":
		r := &schema.OperationSelectorRoute{Base: k.base(), Alias: k.typ == "PrefixPolicyRoute"}
		if k.short {
			r.DefaultPolicy = d.one(k.path, k.v)
			return r
		}
		r.DefaultPolicy = k.routeOpt("default_policy")
		r.OperationPolicies = k.routeMap("operation_policies", true)
		if k.v.Get("default_policy") == nil && k.v.Get("operation_policies") == nil {
			d.errorf(k.path, k.v, RuleRequiredField, "%s needs default_policy or operation_policies", k.typ)
		}
		return r
	case "RoutingGroupRoute":
		r := &schema.RoutingGroupRoute{Base: k.base()}
		if k.short {
			r.DefaultPolicy = d.one(k.path, k.v)
			return r
		}
		r.DefaultPolicy = k.routeOpt("default_policy")
		r.RoutingGroupPolicies = k.routeMap("routing_group_policies", false)
		for g := range r.RoutingGroupPolicies {
			if !contains(mc.GroupNames[1:], g) {
				d.errorf(join(k.at("routing_group_policies"), g), k.v.Get("routing_group_policies").Get(g), RuleUnknownOperation,
					"unknown routing group %q%s (want get_like, update_like, delete_like or arithmetic_like)", g, suggest.Hint(g, mc.GroupNames[1:]))
			}
		}
		if k.v.Get("default_policy") == nil && k.v.Get("routing_group_policies") == nil {
			d.errorf(k.path, k.v, RuleRequiredField, "RoutingGroupRoute needs default_policy or routing_group_policies")
		}
		return r
	case "WarmUpRoute":
		r := &schema.WarmUpRoute{Base: k.base()}
		r.Cold = k.routeReq("cold")
		r.Warm = k.routeReq("warm")
		r.Exptime, _ = k.integer("exptime", -1<<31, 1<<31-1)
		r.EnableMetaget = k.boolean("enable_metaget")
		return r
	case "L1L2CacheRoute":
		r := &schema.L1L2CacheRoute{Base: k.base()}
		r.L1 = k.routeReq("l1")
		r.L2 = k.routeReq("l2")
		if k.require("upgradingL1Exptime") != nil {
			r.UpgradingL1Exptime, _ = k.integer("upgradingL1Exptime", 0, 1<<31-1)
		}
		r.NcacheExptime, _ = k.integer("ncacheExptime", 0, 1<<31-1)
		r.NcacheUpdatePeriod, _ = k.integer("ncacheUpdatePeriod", 0, 1<<31-1)
		return r
	case "L1L2SizeSplitRoute":
		r := &schema.L1L2SizeSplitRoute{Base: k.base()}
		r.L1 = k.routeReq("l1")
		r.L2 = k.routeReq("l2")
		if k.require("threshold") != nil {
			r.Threshold, _ = k.integer("threshold", 0, 1<<62)
		}
		r.TTLThreshold, _ = k.integer("ttl_threshold", 0, 1<<31-1)
		if n, ok := k.integer("failure_ttl", 1, 1<<31-1); ok {
			r.FailureTTL = &n
		}
		r.BothFullSet = k.boolean("both_full_set")
		if n, ok := k.integer("retries", 1, 10); ok {
			c := int(n)
			r.Retries = &c
		}
		return r
	case "MigrateRoute":
		r := &schema.MigrateRoute{Base: k.base()}
		r.From = k.routeReq("from")
		r.To = k.routeReq("to")
		if k.require("start_time") != nil {
			r.StartTime, _ = k.integer("start_time", 0, 1<<62)
		}
		r.Interval, _ = k.integer("interval", 1, 1<<31-1)
		return r
	case "ModifyKeyRoute":
		r := &schema.ModifyKeyRoute{Base: k.base()}
		r.Target = k.routeReq("target")
		if v := k.get("set_routing_prefix"); v != nil {
			if s, ok := d.wantString(k.at("set_routing_prefix"), v); ok {
				if s != "" && !ValidRoutingPrefix(s) {
					d.errorf(k.at("set_routing_prefix"), v, RuleInvalidPrefix, "set_routing_prefix %q must be \"\" or of the form /region/cluster/", s)
				}
				r.SetRoutingPrefix = &s
			}
		}
		r.EnsureKeyPrefix = k.str("ensure_key_prefix")
		r.ReplaceKeyPrefix = k.str("replace_key_prefix")
		r.SetKeySuffix = k.str("set_key_suffix")
		r.ModifyInplace = k.boolean("modify_inplace")
		return r
	case "ModifyExptimeRoute":
		r := &schema.ModifyExptimeRoute{Base: k.base()}
		r.Target = k.routeReq("target")
		if k.require("exptime") != nil {
			r.Exptime, _ = k.integer("exptime", -1<<31, 1<<31-1)
		}
		r.Action = k.str("action")
		if r.Action != "" && r.Action != "set" && r.Action != "min" {
			d.errorf(k.at("action"), k.v.Get("action"), RuleInvalidValue, "action must be \"set\" or \"min\", not %q", r.Action)
		}
		return r
	case "LatencyInjectionRoute":
		r := &schema.LatencyInjectionRoute{Base: k.base()}
		r.Child = k.routeReq("child")
		r.BeforeLatency, _ = k.integer("before_latency_ms", 0, 1<<31-1)
		r.AfterLatency, _ = k.integer("after_latency_ms", 0, 1<<31-1)
		r.TotalLatency, _ = k.integer("total_latency_ms", 0, 1<<31-1)
		r.MaxRequestUsec, _ = k.integer("max_request_latency_us", 0, 1<<62)
		return r
	case "RateLimitRoute":
		r := &schema.RateLimitRoute{Base: k.base()}
		r.Target = k.routeReq("target")
		if v := k.require("rates"); v != nil {
			if rt := d.rates(k.at("rates"), v); rt != nil {
				r.Rates = *rt
			}
		}
		r.Fallback = k.routeOpt("fallback")
		return r
	case "ShadowRoute":
		r := &schema.ShadowRoute{Base: k.base(), Children: k.children(true)}
		if v := k.get("shadows"); v != nil {
			r.Shadows = d.shadows(k.at("shadows"), v)
		}
		r.ShadowPolicy = k.str("shadow_policy")
		return r
	case "KeySplitRoute":
		r := &schema.KeySplitRoute{Base: k.base()}
		r.Destination = k.routeReq("destination")
		if k.require("replicas") != nil {
			n, _ := k.integer("replicas", 2, 1000)
			r.Replicas = int(n)
		}
		if k.require("all_sync") != nil {
			r.AllSync = k.boolean("all_sync")
		}
		r.FirstHit = k.boolean("first_hit")
		return r
	case "LoggingRoute":
		r := &schema.LoggingRoute{Base: k.base()}
		if k.short {
			r.Target = d.one(k.path, k.v)
		} else {
			r.Target = k.routeOpt("target")
		}
		return r
	case "ErrorRoute":
		r := &schema.ErrorRoute{Base: k.base()}
		if k.short {
			r.Response, r.Short = k.v.Str, true
			return r
		}
		r.Response = k.str("response")
		r.Result = k.str("result")
		if r.Result != "" {
			res, ok := mc.ParseResult(r.Result)
			switch {
			case !ok || len(r.Result) < 7 || r.Result[:7] != "mc_res_":
				var all []string
				for _, x := range mc.AllResults() {
					all = append(all, x.FullName())
				}
				d.errorf(k.at("result"), k.v.Get("result"), RuleInvalidValue, "result must be a full mc_res_* name such as \"mc_res_local_error\", not %q%s", r.Result, suggest.Hint(r.Result, all))
			case !res.IsError():
				d.errorf(k.at("result"), k.v.Get("result"), RuleInvalidValue, "ErrorRoute result %q is not an error result", r.Result)
			}
		}
		r.EnableLogging = k.boolPtr("enable_logging")
		return r
	case "NullRoute":
		return &schema.NullRoute{Base: k.base()}
	case "DevNullRoute":
		return &schema.DevNullRoute{Base: k.base()}
	case "SaltedFailoverRoute":
		r := &schema.SaltedFailoverRoute{Base: k.base()}
		if v := k.require("pool"); v != nil {
			r.Pool = d.poolRef(k.at("pool"), v)
		}
		if v := k.get("hash"); v != nil {
			r.Hash = d.hashSpec(k.at("hash"), v)
		}
		r.FailoverOptions = k.failoverOptions()
		return r
	}
	return d.generic(k.path, k.v, k.info, k.v)
}

// generic decodes a kind mcroute does not execute, keeping every field.
func (d *decoder) generic(path string, src *jsonm.Value, info schema.KindInfo, cfg *jsonm.Value) schema.Route {
	g := &schema.Generic{Base: schema.Base{Pos: d.pos(path, src)}, Type: info.Name}
	if cfg == nil {
		return g
	}
	if cfg.Kind == jsonm.String {
		g.Routes = map[string][]schema.Route{"children": d.list(path, cfg)}
		return g
	}
	for _, m := range cfg.Obj {
		if m.Key == "type" || m.Key == "name" {
			continue
		}
		mp := join(path, m.Key)
		switch {
		case contains(info.ListFields, m.Key):
			if g.Routes == nil {
				g.Routes = map[string][]schema.Route{}
			}
			g.Routes[m.Key] = d.list(mp, m.Value)
		case contains(info.RouteFields, m.Key):
			if g.Routes == nil {
				g.Routes = map[string][]schema.Route{}
				g.Single = map[string]bool{}
			}
			if g.Single == nil {
				g.Single = map[string]bool{}
			}
			if r := d.one(mp, m.Value); r != nil {
				g.Routes[m.Key] = []schema.Route{r}
				g.Single[m.Key] = true
			}
		default:
			if g.Options == nil {
				g.Options = map[string]any{}
			}
			g.Options[m.Key] = m.Value.ToAny()
			if len(info.Fields) > 0 && !contains(info.Fields, m.Key) {
				d.warnf(mp, m.Value, RuleUnknownField, "unknown field %q for %s is ignored by mcrouter%s", m.Key, info.Name, suggest.Hint(m.Key, info.Fields))
			}
		}
	}
	return g
}

// maxShardSplits is mcrouter's cap on a shard's split count (26*26+1: the
// split suffixes are two letters).
const maxShardSplits = 26*26 + 1

// shardSplits decodes PoolRoute's shard_splits: shard id → split count, or
// → {old_split_size, new_split_size, split_start, migration_period,
// fanout_deletes}.
func (d *decoder) shardSplits(path string, v *jsonm.Value) map[string]schema.ShardSplit {
	if v.Kind != jsonm.Object {
		d.errorf(path, v, RuleInvalidValue, "shard_splits must be an object of shard id to split count, not %s", v.Kind)
		return nil
	}
	d.duplicates(path, v)
	out := map[string]schema.ShardSplit{}
	size := func(fp string, v *jsonm.Value) int {
		n, ok := d.wantInt(fp, v)
		switch {
		case !ok:
			return 0
		case n <= 0:
			d.errorf(fp, v, RuleInvalidValue, "a shard split count must be positive, not %d", n)
			return 0
		case n > maxShardSplits:
			d.warnf(fp, v, RuleInvalidValue, "shard split count %d is above %d: mcrouter uses %d", n, maxShardSplits, maxShardSplits)
		}
		return int(n)
	}
	for _, m := range v.Obj {
		fp := join(path, m.Key)
		sp := schema.ShardSplit{Pos: d.pos(fp, m.Value)}
		switch m.Value.Kind {
		case jsonm.Int, jsonm.Float:
			sp.Splits = size(fp, m.Value)
		case jsonm.Object:
			sp.Object = true
			for _, f := range m.Value.Obj {
				ffp := join(fp, f.Key)
				switch f.Key {
				case "old_split_size":
					sp.OldSplitSize = size(ffp, f.Value)
				case "new_split_size":
					sp.NewSplitSize = size(ffp, f.Value)
				case "split_start", "migration_period":
					n, ok := d.wantInt(ffp, f.Value)
					if ok && n < 0 {
						d.errorf(ffp, f.Value, RuleInvalidValue, "%s must not be negative", f.Key)
					}
					if f.Key == "split_start" {
						sp.SplitStart = n
					} else {
						sp.MigrationPeriod = n
					}
				case "fanout_deletes":
					sp.FanoutDeletes, _ = d.wantBool(ffp, f.Value)
				default:
					d.warnf(ffp, f.Value, RuleUnknownField, "unknown shard split field %q is ignored by mcrouter%s", f.Key,
						suggest.Hint(f.Key, []string{"old_split_size", "new_split_size", "split_start", "migration_period", "fanout_deletes"}))
				}
			}
		default:
			d.errorf(fp, m.Value, RuleInvalidValue, "the split of shard %q must be a count or an object, not %s", m.Key, m.Value.Kind)
			continue
		}
		out[m.Key] = sp
	}
	return out
}

// bucketize decodes PoolRoute's bucketization options.
func (k *kindDecoder) bucketize(r *schema.PoolRoute) {
	d := k.d
	r.Bucketize = k.boolPtr("bucketize")
	r.TotalBuckets, _ = k.integer("total_buckets", 1, 1<<62)
	r.BucketizationKeyspace = k.str("bucketization_keyspace")
	if v := k.get("total_buckets_by_prefix"); v != nil {
		p := k.at("total_buckets_by_prefix")
		if v.Kind != jsonm.Object {
			d.errorf(p, v, RuleInvalidValue, "total_buckets_by_prefix must be an object of key prefix to bucket count")
		} else {
			r.TotalBucketsByPrefix = map[string]int64{}
			for _, m := range v.Obj {
				fp := join(p, m.Key)
				if n, ok := d.wantInt(fp, m.Value); ok {
					if n < 1 || (r.TotalBuckets > 0 && n > r.TotalBuckets) {
						d.errorf(fp, m.Value, RuleInvalidValue, "bucket count %d for prefix %q must be in 1..total_buckets", n, m.Key)
					}
					r.TotalBucketsByPrefix[m.Key] = n
				}
			}
		}
	}
	if r.Bucketize != nil && *r.Bucketize {
		if k.v.Get("total_buckets") == nil {
			d.errorf(k.path, k.v, RuleRequiredField, "bucketize needs \"total_buckets\"")
		}
		if k.v.Get("bucketization_keyspace") == nil {
			d.errorf(k.path, k.v, RuleRequiredField, "bucketize needs \"bucketization_keyspace\"")
		}
	}
}

// slowWarmup decodes PoolRoute's slow_warmup {failoverTarget, settings}.
func (d *decoder) slowWarmup(path string, v *jsonm.Value) *schema.SlowWarmup {
	if v.Kind != jsonm.Object {
		d.errorf(path, v, RuleInvalidValue, "slow_warmup must be an object {failoverTarget, settings}")
		return nil
	}
	sw := &schema.SlowWarmup{Pos: d.pos(path, v)}
	for _, m := range v.Obj {
		fp := join(path, m.Key)
		switch m.Key {
		case "failoverTarget":
			sw.Target = d.one(fp, m.Value)
		case "settings":
			sw.Settings = d.slowWarmupSettings(fp, m.Value)
		default:
			d.warnf(fp, m.Value, RuleUnknownField, "unknown slow_warmup field %q is ignored by mcrouter (want failoverTarget, settings)", m.Key)
		}
	}
	if v.Get("failoverTarget") == nil {
		d.errorf(path, v, RuleRequiredField, "slow_warmup needs \"failoverTarget\"")
	}
	return sw
}

func (d *decoder) slowWarmupSettings(path string, v *jsonm.Value) *schema.SlowWarmupSettings {
	if v.Kind != jsonm.Object {
		d.errorf(path, v, RuleInvalidValue, "slow_warmup settings must be an object")
		return nil
	}
	st := &schema.SlowWarmupSettings{}
	for _, m := range v.Obj {
		fp := join(path, m.Key)
		var f float64
		var ok bool
		if m.Key != "min_requests" {
			f, ok = d.wantFloat(fp, m.Value)
			if !ok {
				continue
			}
		}
		switch m.Key {
		case "enable_threshold", "disable_threshold":
			if f < 0 || f > 1 {
				d.errorf(fp, m.Value, RuleInvalidValue, "%s must be in [0, 1], not %g", m.Key, f)
			}
			if m.Key == "enable_threshold" {
				st.EnableThreshold = f
			} else {
				st.DisableThreshold = f
			}
		case "start":
			if f <= 0 || f >= 1 {
				d.errorf(fp, m.Value, RuleInvalidValue, "start must be in (0, 1), not %g", f)
			}
			st.Start = f
		case "step":
			if f <= 0 || f >= 100 {
				d.errorf(fp, m.Value, RuleInvalidValue, "step must be in (0, 100), not %g", f)
			}
			st.Step = f
		case "min_requests":
			if n, ok := d.wantInt(fp, m.Value); ok {
				if n <= 0 {
					d.errorf(fp, m.Value, RuleInvalidValue, "min_requests must be positive, not %d", n)
				}
				st.MinRequests = n
			}
		default:
			d.warnf(fp, m.Value, RuleUnknownField, "unknown slow_warmup setting %q is ignored by mcrouter%s", m.Key,
				suggest.Hint(m.Key, []string{"enable_threshold", "disable_threshold", "start", "step", "min_requests"}))
		}
	}
	for _, req := range []string{"enable_threshold", "disable_threshold"} {
		if v.Get(req) == nil {
			d.errorf(path, v, RuleRequiredField, "slow_warmup settings need %q", req)
		}
	}
	if v.Get("enable_threshold") != nil && v.Get("disable_threshold") != nil && !(st.EnableThreshold < st.DisableThreshold) {
		d.errorf(path, v, RuleInvalidValue, "enable_threshold must be below disable_threshold")
	}
	return st
}
