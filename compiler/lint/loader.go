package lint

import (
	"github.com/mcroute/mcroute/compiler/mcrouterjson"
	"github.com/mcroute/mcroute/internal/diag"
)

// loaderRules documents the rule IDs reported while loading a config: an
// mcrouter JSON config (the JSONC parser, the JSONM preprocessor and
// mcrouterjson.Decode) or a CUE policy (the compiler, which reports the
// decoder's IDs too). Lint does not run them: their findings come with the
// loaded config. Severity is the one used for mcrouter JSON.
func loaderRules() []Rule {
	return append(jsonRules(), cueRules()...)
}

// cueRules documents the IDs the CUE compiler reports itself (package
// compiler; lint does not import it).
func cueRules() []Rule {
	return []Rule{
		{ID: "cue-syntax", Severity: diag.Error,
			Summary: "a .cue file does not parse",
			Doc:     `The policy is not valid CUE syntax (an unbalanced brace, a missing colon or quote). The finding points at the first token that cannot be parsed.`},
		{ID: "cue-load", Severity: diag.Error,
			Summary: "the CUE policy package cannot be loaded",
			Doc:     `A policy is one CUE package: a .cue file, or a directory whose .cue files share a package clause. No .cue files, several packages in one directory, or an import that cannot be resolved stop the compilation.`},
		{ID: "incomplete-value", Severity: diag.Error,
			Summary: "a field of the policy has no concrete value",
			Doc:     `Every field that ends up in the config needs a concrete value: a type or a disjunction left open (string, int, "a" | "b" without a default) cannot be compiled. Give the value, or a default with *.`},
		{ID: "undefined-reference", Severity: diag.Error,
			Summary: "the policy refers to a field or definition that does not exist",
			Doc:     `A reference (a pool name in an expression, #SomeTemplate, a hidden field) names nothing in scope. Check the spelling; the definitions of the policy language (#Route, #Pool, #ReplicatedPool, ...) are available without an import.`},
		{ID: "structural-cycle", Severity: diag.Error,
			Summary: "a value of the policy contains itself",
			Doc:     `A field is defined in terms of itself, directly or through other fields, so it has no finite value. Break the cycle; for route graphs that share a route, use a named handle.`},
		{ID: "schema-redefinition", Severity: diag.Error,
			Summary: "the policy redefines a definition of the policy language",
			Doc:     `Names such as #Route, #Pool or #Policy belong to the mcroute policy language, which is added to every policy package. Defining one again would change the language itself; give yours another name.`},
		{ID: "discovery-not-in-mcrouter-json", Severity: diag.Warning,
			Summary: "a pool finds its servers through DNS, which mcrouter JSON cannot express",
			Doc:     `mcroute serve resolves a pool's "discovery" name and follows changes, but mcrouter has no such feature: the compiled mcrouter JSON lists no servers for the pool, and mcrouter answers its requests with errors. List the servers if the config is meant for mcrouter.`},
		{ID: "internal-error", Severity: diag.Error,
			Summary: "the CUE evaluator failed on the policy",
			Doc:     `The CUE evaluator itself failed while compiling the policy. This is a defect of mcroute or CUE, not of the policy; please report it with the policy that triggers it.`},
	}
}

// jsonRules documents the IDs of the mcrouter JSON loader.
func jsonRules() []Rule {
	return []Rule{
		{ID: mcrouterjson.RuleSyntax, Severity: diag.Error,
			Summary: "the file is not valid JSON (with comments and trailing commas)",
			Doc: `mcrouter reads JSON with // and /* */ comments and trailing commas allowed (folly's parser). ` +
				`Anything else (a missing comma or quote, a key that is not a string, unbalanced brackets) makes ` +
				`mcrouter refuse the whole config. The finding points at the first character that cannot be parsed.`},
		{ID: mcrouterjson.RulePreprocess, Severity: diag.Error,
			Summary: "JSONM macro expansion failed",
			Doc: `The JSONM preprocessor (macros, consts, %params%, @import, built-ins such as @merge or @select) ` +
				`failed: an undefined param or macro, a wrong argument, a cycle, a failed import, an explicit ` +
				`@fail. mcrouter refuses the config. Params that mcrouter gets from --config-params can be given ` +
				`with --param NAME=VALUE. The message lists the chain of macro calls that led to the error.`},
		{ID: mcrouterjson.RuleIO, Severity: diag.Error,
			Summary: "a file could not be read",
			Doc:     `The config file or a file it imports could not be read. Check the path and permissions.`},
		{ID: mcrouterjson.RuleInvalidConfig, Severity: diag.Error,
			Summary: "the config root is not a JSON object",
			Doc:     `An mcrouter config is a JSON object with "pools", "route" or "routes", and optionally "named_handles" and "routing_options".`},
		{ID: mcrouterjson.RuleMissingRoute, Severity: diag.Error,
			Summary: "the config has neither or both of route and routes",
			Doc: `mcrouter needs exactly one of "route" (one route tree for the default routing prefix) and ` +
				`"routes" (a table of routing prefixes); with neither or both it refuses the config.`},
		{ID: mcrouterjson.RuleRoutesDefault, Severity: diag.Warning,
			Summary: "routes has no entry for the default routing prefix /././",
			Doc: `mcrouter serves keys without a routing prefix with the route registered under its -R prefix ` +
				`(default /././) and refuses a "routes" table that does not contain it ("invalid default route"). ` +
				`This is a warning because mcrouter may be started with -R set to one of the table's prefixes; add ` +
				`"/././" to an entry's aliases otherwise.`},
		{ID: mcrouterjson.RuleInvalidPrefix, Severity: diag.Error,
			Summary: "a routing prefix is not of the form /region/cluster/, or is repeated",
			Doc:     `Routing prefixes (routes aliases and keys, ModifyKeyRoute set_routing_prefix) must be /region/cluster/ with two non-empty parts, and each may be given once.`},
		{ID: mcrouterjson.RuleUnknownTopLevel, Severity: diag.Warning,
			Summary: "an unknown top-level key is ignored by mcrouter",
			Doc: `mcrouter reads only "pools", "named_handles", "route", "routes", "routing_options" and ` +
				`"macros" at the top level and silently ignores every other key. Pools written under another key ` +
				`(for example "regional_pools") do not exist for mcrouter, and routes using them fail with ` +
				`unknown-pool.`},
		{ID: mcrouterjson.RuleUnknownPool, Severity: diag.Error,
			Summary: "a route or inherit refers to a pool that is not defined",
			Doc: `PoolRoute, Pool, SaltedFailoverRoute and "inherit" name pools defined under "pools" (or ` +
				`"file:" paths). An unknown name makes mcrouter refuse the config ("Can not read pool"). The ` +
				`finding suggests the closest defined name and says when the pool is defined under a key mcrouter ` +
				`ignores.`},
		{ID: mcrouterjson.RuleUnknownType, Severity: diag.Error,
			Summary: "a route object or short form has an unknown type",
			Doc:     `The "type" of a route (or the part before "|" of a short form such as "PoolRoute|A") must be one of mcrouter's route handles; type names are case-sensitive. mcrouter refuses the config.`},
		{ID: mcrouterjson.RuleUnknownHandle, Severity: diag.Error,
			Summary: "a route string is neither a named handle nor a route type",
			Doc:     `A route given as a plain string is looked up as a named handle, then as a route type without options ("NullRoute"). Anything else fails with "Unknown type or Missing Name Handle".`},
		{ID: mcrouterjson.RuleMissingPoolPrefix, Severity: diag.Error,
			Summary: `a pool name is used where a route is expected ("AllSyncRoute|A" instead of "AllSyncRoute|Pool|A")`,
			Doc: `In a short form "Type|rest" the rest is itself a route, so "AllSyncRoute|A" looks for a named ` +
				`handle called A, not the pool. Write "AllSyncRoute|Pool|A" (every server of A) or ` +
				`"AllSyncRoute|PoolRoute|A" (one server of A chosen by hashing), or "PoolRoute|A" alone.`},
		{ID: mcrouterjson.RuleUnknownField, Severity: diag.Warning,
			Summary: "an option is not read by mcrouter and is silently ignored",
			Doc: `mcrouter does not validate the keys of route and pool objects: a misspelled or misplaced ` +
				`option (server_timout, "default" for default_policy, hash on a pool) is ignored without a word, ` +
				`and the behaviour it was meant to change stays at the default. The finding suggests the closest ` +
				`option the route type reads. In CUE policies unknown fields are errors.`},
		{ID: mcrouterjson.RuleInvalidValue, Severity: diag.Error,
			Summary: "an option has a wrong type or a value out of range",
			Doc:     `An option has the wrong JSON type or a value mcrouter rejects or misreads: a server_timeout outside 1..1000000 ms, a weight outside [0, 1], an unknown hash function or result name, an ErrorRoute result that is not an error.`},
		{ID: mcrouterjson.RuleRequiredField, Severity: diag.Error,
			Summary: "a required option is missing",
			Doc:     `The route type or pool needs this option (a pool its "servers", a PoolRoute its "pool", a WarmUpRoute "cold" and "warm", a route object its "type") and mcrouter refuses the config without it.`},
		{ID: mcrouterjson.RuleInvalidServer, Severity: diag.Error,
			Summary: "a server address is malformed",
			Doc:     `Server addresses are HOST:PORT[:PROTOCOL[:SECURITY[:COMPRESSION]]] with IPv6 hosts in brackets ([::1]:11211), or unix:PATH. mcrouter refuses a pool with a malformed address.`},
		{ID: mcrouterjson.RuleShortForm, Severity: diag.Error,
			Summary: "a route type that needs an object is written in the short form \"Type|options\"",
			Doc:     `Only route types whose options can be a single string accept the short form "Type|rest" (PoolRoute, HashRoute, the All* routes, FailoverRoute, MissFailoverRoute, RandomRoute, LatestRoute, ...). WarmUpRoute, L1L2CacheRoute, MigrateRoute, ModifyKeyRoute and the like need an object.`},
		{ID: mcrouterjson.RuleHandleCycle, Severity: diag.Error,
			Summary: "named handles refer to each other in a cycle",
			Doc:     `A named handle that reaches itself through references cannot be built; mcrouter refuses the config.`},
		{ID: mcrouterjson.RuleInheritCycle, Severity: diag.Error,
			Summary: "pools inherit from each other in a cycle",
			Doc:     `A pool copies the options it lacks from the pool named by its "inherit", which may inherit in turn; the chain must end, and mcrouter refuses a config where pools inherit from each other in a cycle.`},
		{ID: mcrouterjson.RuleUnknownOperation, Severity: diag.Error,
			Summary: "an operation_policies key is not an operation (or a routing group key is not a group)",
			Doc:     `operation_policies keys are mcrouter's operation names: get, gets, set, add, replace, append, prepend, cas, delete, incr, decr, touch, gat, gats, metaget, lease-get, lease-set, flushall, flushre; routing_group_policies keys are get_like, update_like, delete_like, arithmetic_like. mcrouter refuses others.`},
		{ID: mcrouterjson.RulePrefixSelectorNotOn, Severity: diag.Error,
			Summary: "PrefixSelectorRoute is used below the top of a route",
			Doc:     `PrefixSelectorRoute is only valid as the whole value of "route" or of a "routes" entry; anywhere else mcrouter fails with "Unknown RouteHandle". Move the key-prefix selection to the top, or select inside it.`},
		{ID: mcrouterjson.RuleInternalType, Severity: diag.Warning,
			Summary: "a route type is Facebook-internal or unusable in open-source mcrouter",
			Doc:     `Some route types (SRRoute, AxonLogRoute, CarbonLookasideRoute, the distribution routes) exist only in Facebook's builds or need internal services; an open-source mcrouter rejects or cannot serve them.`},
		{ID: mcrouterjson.RuleRemovedType, Severity: diag.Warning,
			Summary: "a feature was removed from mcrouter",
			Doc:     `The config uses something current mcrouter releases no longer accept: the umbrella protocol, ReliablePoolRoute, McRefillRoute, the Shard hash function, server_list_from_pool. Old mcrouters accepted it; replace it before upgrading.`},
		{ID: mcrouterjson.RuleDuplicateHandle, Severity: diag.Warning,
			Summary: "a different route reuses the name of a named handle",
			Doc:     `Named handles are global and the first definition wins: a later route object with the same "name" is silently replaced by the first one. Rename one of them.`},
		{ID: mcrouterjson.RuleDuplicatePool, Severity: diag.Warning,
			Summary: "an inline pool reuses the name of another pool",
			Doc:     `An inline pool object with the name of a pool defined elsewhere is ignored in favour of the first one parsed. Rename it, or refer to the existing pool by name.`},
		{ID: mcrouterjson.RuleIgnoredPoolField, Severity: diag.Warning,
			Summary: "a pool has a hash option, which mcrouter ignores",
			Doc:     `Pools do not carry a hash function: "hash", "hash_func" and "salt" in a pool object are ignored (some wiki pages say otherwise). Set "hash" on the PoolRoute, or "hash_func"/"salt" on a HashRoute.`},
		{ID: mcrouterjson.RulePoolListOne, Severity: diag.Error,
			Summary: `"Pool|A" is used where one route is required but A has several servers`,
			Doc:     `"Pool|A" stands for the list of A's servers. Where a single route is required (a policy, a target, "route") it only works when A has exactly one server. Use "PoolRoute|A" to hash over the servers, or an All*/Failover route to use them all.`},
		{ID: mcrouterjson.RuleDuplicateKey, Severity: diag.Warning,
			Summary: "a JSON object has the same key twice",
			Doc:     `folly's parser keeps the last of repeated keys and drops the others without a word, so the first definition (a pool, a policy, an option) has no effect. Remove or merge the duplicates.`},
	}
}
