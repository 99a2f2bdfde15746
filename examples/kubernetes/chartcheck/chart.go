// Package chartcheck checks the mcroute Helm chart and the Kubernetes
// examples beside it: it lints and renders the chart with the Helm library
// (no helm binary needed), and decodes every manifest strictly into the
// k8s.io/api types, so that a misspelt or misplaced field fails CI instead of
// being dropped by the API server.
//
// It is a Go module of its own (examples/kubernetes/chartcheck), so that
// Helm and the Kubernetes API types stay out of mcroute's dependencies.
// Run it with: cd examples/kubernetes/chartcheck && go test ./...
package chartcheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/release"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// KubeVersion is the Kubernetes version the chart is linted and rendered
// for, as "helm template --kube-version" gives it. (Helm's own default is
// the client-go version stamped into release binaries; built as a library,
// it says v1.20.0, older than the chart's kubeVersion.)
const KubeVersion = "v1.33.0"

// LintChart runs helm lint (strict: warnings fail too) on the chart in dir
// with the given values, and returns every message at warning level or above
// as an error. Lint renders the templates but does not stop at a template's
// fail call: RenderChart does.
func LintChart(dir, namespace string, vals map[string]any) ([]support.Message, error) {
	kv, err := common.ParseKubeVersion(KubeVersion)
	if err != nil {
		return nil, err
	}
	l := action.NewLint()
	l.Strict = true
	l.Namespace = namespace
	l.KubeVersion = kv
	res := l.Run([]string{dir}, vals)
	return res.Messages, errors.Join(res.Errors...)
}

// RenderChart renders the chart in dir as "helm template NAME dir
// --namespace NAMESPACE" does, and returns the rendered manifests, hooks
// included.
func RenderChart(ctx context.Context, dir, name, namespace string, vals map[string]any) (string, error) {
	ch, err := loader.Load(dir)
	if err != nil {
		return "", fmt.Errorf("load chart: %w", err)
	}
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(slog.NewTextHandler(io.Discard, nil)))
	in := action.NewInstall(cfg)
	if in.KubeVersion, err = common.ParseKubeVersion(KubeVersion); err != nil {
		return "", err
	}
	in.DryRunStrategy = action.DryRunClient
	in.ReleaseName = name
	in.Namespace = namespace
	in.Replace = true
	rel, err := in.RunWithContext(ctx, ch, vals)
	if err != nil {
		return "", fmt.Errorf("render chart: %w", err)
	}
	acc, err := release.NewAccessor(rel)
	if err != nil {
		return "", fmt.Errorf("rendered release: %w", err)
	}
	var out strings.Builder
	out.WriteString(acc.Manifest())
	for _, h := range acc.Hooks() {
		ha, err := release.NewHookAccessor(h)
		if err != nil {
			return "", fmt.Errorf("rendered hook: %w", err)
		}
		out.WriteString("\n---\n")
		out.WriteString(ha.Manifest())
	}
	return out.String(), nil
}

// ReadValues reads a Helm values file.
func ReadValues(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	vals := map[string]any{}
	if err := yaml.Unmarshal(b, &vals); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return vals, nil
}

// ServiceMonitor is the part of the Prometheus Operator's ServiceMonitor
// (monitoring.coreos.com/v1) that the chart writes; decoding into it
// strictly rejects fields the chart should not set.
type ServiceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              ServiceMonitorSpec `json:"spec"`
}

// ServiceMonitorSpec selects the Services to scrape and how.
type ServiceMonitorSpec struct {
	Selector          metav1.LabelSelector `json:"selector"`
	NamespaceSelector struct {
		Any        bool     `json:"any,omitempty"`
		MatchNames []string `json:"matchNames,omitempty"`
	} `json:"namespaceSelector,omitempty"`
	Endpoints []Endpoint `json:"endpoints"`
}

// Endpoint is one scraped port of a ServiceMonitor.
type Endpoint struct {
	Port          string `json:"port"`
	Path          string `json:"path,omitempty"`
	Interval      string `json:"interval,omitempty"`
	ScrapeTimeout string `json:"scrapeTimeout,omitempty"`
}

// Object is one decoded manifest.
type Object struct {
	// Kind is the manifest's apiVersion and kind, as "apps/v1 DaemonSet".
	Kind string
	// Name is metadata.name.
	Name string
	// Value is the typed object: *appsv1.DaemonSet, *corev1.ConfigMap, ...
	Value any
}

// kinds are the resource types the chart and the examples may contain.
var kinds = map[string]func() any{
	"v1 ConfigMap":                            func() any { return new(corev1.ConfigMap) },
	"v1 Service":                              func() any { return new(corev1.Service) },
	"v1 ServiceAccount":                       func() any { return new(corev1.ServiceAccount) },
	"v1 Pod":                                  func() any { return new(corev1.Pod) },
	"apps/v1 Deployment":                      func() any { return new(appsv1.Deployment) },
	"apps/v1 DaemonSet":                       func() any { return new(appsv1.DaemonSet) },
	"apps/v1 StatefulSet":                     func() any { return new(appsv1.StatefulSet) },
	"policy/v1 PodDisruptionBudget":           func() any { return new(policyv1.PodDisruptionBudget) },
	"monitoring.coreos.com/v1 ServiceMonitor": func() any { return new(ServiceMonitor) },
}

// DecodeStrict splits a multi-document YAML stream and decodes each
// non-empty document into its k8s.io/api type. Unknown fields, fields in the
// wrong case, duplicate keys and unknown kinds are errors.
func DecodeStrict(manifests string) ([]Object, error) {
	var objs []Object
	var errs []error
	for i, doc := range splitDocs(manifests) {
		j, err := yaml.YAMLToJSONStrict([]byte(doc))
		if err != nil {
			errs = append(errs, fmt.Errorf("document %d: %w", i+1, err))
			continue
		}
		if bytes.Equal(bytes.TrimSpace(j), []byte("null")) {
			continue // only comments
		}
		var tm struct {
			metav1.TypeMeta `json:",inline"`
			Metadata        struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := kjson.UnmarshalCaseSensitivePreserveInts(j, &tm); err != nil {
			errs = append(errs, fmt.Errorf("document %d: %w", i+1, err))
			continue
		}
		kind := tm.APIVersion + " " + tm.Kind
		newObj, ok := kinds[kind]
		if !ok {
			errs = append(errs, fmt.Errorf("document %d (%s): unexpected kind %q", i+1, tm.Metadata.Name, kind))
			continue
		}
		v := newObj()
		strict, err := kjson.UnmarshalStrict(j, v, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
		if err == nil {
			err = errors.Join(strict...)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", kind, tm.Metadata.Name, err))
			continue
		}
		objs = append(objs, Object{Kind: kind, Name: tm.Metadata.Name, Value: v})
	}
	return objs, errors.Join(errs...)
}

// splitDocs splits a YAML stream at "---" document separators.
func splitDocs(s string) []string {
	var docs []string
	var cur strings.Builder
	for line := range strings.Lines(s) {
		if strings.TrimRight(line, " \t\r\n") == "---" {
			docs = append(docs, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteString(line)
	}
	docs = append(docs, cur.String())
	return docs
}

// Summary lists objs as sorted "kind name" lines.
func Summary(objs []Object) []string {
	var s []string
	for _, o := range objs {
		s = append(s, o.Kind+" "+o.Name)
	}
	sort.Strings(s)
	return s
}

// Find returns the first object of the given kind ("apps/v1 DaemonSet").
func Find[T any](objs []Object) (T, bool) {
	for _, o := range objs {
		if v, ok := o.Value.(T); ok {
			return v, true
		}
	}
	var zero T
	return zero, false
}

// All returns every object of type T.
func All[T any](objs []Object) []T {
	var out []T
	for _, o := range objs {
		if v, ok := o.Value.(T); ok {
			out = append(out, v)
		}
	}
	return out
}
