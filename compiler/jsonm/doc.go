// Package jsonm reads mcrouter JSON configs: a positioned JSONC parser and
// the JSONM macro preprocessor of mcrouter's ConfigPreprocessor.
//
// # Parsing
//
// Parse reads JSON with "//" and "/* */" comments and trailing commas, as
// mcrouter does (folly::json::stripComments, then folly's parser with
// allow_trailing_comma). Every Value and every object key carries a Pos
// (file, 1-based line, 1-based column counted in bytes, byte offset).
// Integers that fit in an int64 are kept exactly (Kind Int), other numbers
// are Float; Value.Lit keeps the literal text. Objects keep member order; a
// repeated key overrides the earlier one (folly behaviour) and the
// overridden members are listed in Value.Duplicates.
//
// # Expansion
//
// Expand applies JSONM to a parsed config exactly as mcrouter's
// ConfigPreprocessor::getConfigWithoutMacros does:
//
//   - The top-level "macros" member (an object, or an array of objects and
//     arrays, itself expanded first) defines macros,
//     "name": {"type": "macroDef", "params": [...], "result": <json>}, and
//     consts, "name": {"type": "constDef", "result": <json>}. A param is
//     "pname" (required), {"name": "pname", "default": <json>} or
//     {"name": "pname", "optional": true}; after an optional param all
//     params must be optional. Later definitions override earlier ones and
//     built-ins of the same name.
//   - A string starting with '@' is a call: "@name" or "@name(a,b,...)".
//     Arguments are split on unescaped commas (nested calls keep their
//     parentheses), trimmed of unescaped whitespace, and expanded as strings;
//     "@name()" has one empty argument. The name may contain %params%.
//   - An object {"type": "name", "param": ..., ...} is a call with named
//     arguments; unknown members are ignored.
//   - In any other string, %name% is replaced by the value of name: a string
//     that is exactly one reference becomes that value whatever its type;
//     embedded references must be strings. Names are looked up in the local
//     scope, then consts, then Options.Params. Backslash escapes the next
//     character (\%, \@, \\, \,, \(, \)); a string that does not start with
//     '@' is never a call, so "\\@x" in JSON source is the literal "@x". An
//     odd number of unescaped '%' is an error.
//   - "vars": {...} in any object binds local variables for that object
//     (they may refer to each other) and is removed from the output.
//   - Object keys are expanded too and must expand to strings.
//   - Expansions nest at most Options.MaxDepth (250) deep: "Too many nested
//     macros. Check for cycles."
//
// A macro body sees only its parameters (plus consts and params); transform,
// process and foreach bodies see the enclosing scope plus their key/item
// names.
//
// # Built-in macros
//
// String or object form, with their parameter names:
// import(path, default?), hash(value), weightedHash(dictionary, key),
// int(value), double(value), str(value), bool(value), keys(dictionary),
// values(dictionary), merge(params), select(dictionary, key, default?),
// shuffle(dictionary, seed?), slice(dictionary, from, to), split(dictionary,
// delim), range(from, to), contains(dictionary, key), empty(dictionary),
// equals(A, B), isArray/isBool/isInt/isDouble/isObject/isString(value),
// less(A, B), bitwiseAnd/Or/Xor/LeftShift/RightShift(A, B), bitwiseNot(A),
// and(A, B), or(A, B), not(A), size(dictionary), add/sub/mul/div/mod(A, B),
// fail(msg), sort(dictionary), set(dictionary, key, value), if(condition,
// is_true, is_false), define(result), defined(name), isLocalIp(ip).
// import, select, shuffle, and, or and if expand their arguments lazily
// (only when needed). Object form only: transform (dictionary,
// itemTransform, keyTransform, itemName="item", keyName="key"), process
// (dictionary, initialValue, transform, keyName, itemName,
// valueName="value") and foreach (from, where, use, top, key, item,
// noMatchResult).
//
// Conversions, comparisons and number formatting follow folly::dynamic
// (asInt, asDouble, asString, asBool, operator< and operator==). @hash and
// @weightedHash of strings need Options.Hash64 (SpookyHashV2 Hash64 with
// seed 0); integers are hashed with twang_mix64. @shuffle with a seed
// reproduces libstdc++'s std::shuffle with std::minstd_rand.
//
// # Limits
//
// Expand never runs unbounded: besides the nesting limit, Options.MaxNodes
// (DefaultMaxNodes, 4Mi) bounds the values created, counting one per 32
// bytes of string built, and Options.MaxSteps (DefaultMaxSteps, 16Mi) bounds
// the expansion steps and value comparisons; exceeding either is an error
// wrapping
// ErrLimit, so "@range(@int(0), @int(1000000000))" or macros that double a
// value at each level fail quickly instead of exhausting memory. Values
// built by repeated substitution may nest at most 10000 levels. Parse
// accepts at most MaxParseDepth (1000) levels of nesting.
//
// # Differences from mcrouter
//
// Cycles between vars, between consts and between @import files are
// reported as such instead of running into the nesting limit. folly orders
// object members by hash; here they keep document order (keys, values,
// weightedHash ties and foreach follow it). mcrouter's undefined behaviour
// on shifts by a negative count or by 64 or more is an error here.
package jsonm
