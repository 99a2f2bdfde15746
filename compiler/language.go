package compiler

import "fmt"

// Language lists the names the policy language accepts, as its embedded CUE
// definitions declare them: what a tool that writes policies (such as
// mcroute import) can use.
type Language struct {
	// Kinds maps each route type a policy can use (the keys of #TopKinds,
	// so PrefixSelectorRoute is included) to its field names, "type" and
	// "name" among them, sorted.
	Kinds map[string][]string
	// PoolFields are the fields of a pool (#PoolFields), sorted.
	PoolFields []string
	// RoutingOptions are the keys of routing_options (#RoutingOptions),
	// sorted.
	RoutingOptions []string
	// HashFields are the fields of a hash object (#Hash), sorted.
	HashFields []string
	// ShadowFields are the fields of a shadow (#Shadow), sorted.
	ShadowFields []string
}

// PolicyLanguage returns the names the policy language accepts. Each call
// returns fresh copies.
func PolicyLanguage() (Language, error) {
	si := loadSchemaInfo()
	if si.err != nil {
		return Language{}, fmt.Errorf("compiler: embedded schema: %w", si.err)
	}
	l := Language{Kinds: map[string][]string{}}
	for k, f := range si.topKinds {
		l.Kinds[k] = append([]string(nil), f...)
	}
	l.PoolFields = append([]string(nil), si.poolFields...)
	l.RoutingOptions = append([]string(nil), si.routingOptions...)
	l.HashFields = append([]string(nil), si.hashFields...)
	l.ShadowFields = append([]string(nil), si.shadowFields...)
	return l, nil
}
