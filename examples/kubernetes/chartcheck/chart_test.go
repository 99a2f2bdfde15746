package chartcheck

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
)

const (
	chartDir    = "../helm/mcroute"
	releaseName = "demo"
	namespace   = "cache"
)

// mcrouteBin is the mcroute binary built by TestMain (or $MCROUTE).
var mcrouteBin string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	if p := os.Getenv("MCROUTE"); p != "" {
		mcrouteBin = p
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "chartcheck")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer os.RemoveAll(dir)
	mcrouteBin = filepath.Join(dir, "mcroute")
	build := exec.Command("go", "build", "-o", mcrouteBin, "./cmd/mcroute")
	build.Dir = "../../.."
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building mcroute: %v\n%s", err, out)
		return 2
	}
	return m.Run()
}

// validatePolicy writes a policy file as named and runs mcroute validate on it.
func validatePolicy(t *testing.T, name, text string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(mcrouteBin, "validate", path).CombinedOutput()
	if err != nil {
		t.Errorf("mcroute validate %s: %v\n%s\npolicy:\n%s", name, err, out, text)
		return
	}
	t.Logf("mcroute validate %s: %s", name, strings.TrimSpace(string(out)))
}

// render lints the chart with the values file and renders and decodes it.
func render(t *testing.T, valuesFile string) []Object {
	t.Helper()
	vals, err := ReadValues(valuesFile)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := LintChart(chartDir, namespace, vals)
	for _, m := range msgs {
		t.Logf("helm lint: %s", m)
	}
	if err != nil {
		t.Fatalf("helm lint --strict: %v", err)
	}
	objs := renderObjs(t, releaseName, namespace, vals)
	if len(objs) == 0 {
		t.Fatal("the chart rendered nothing")
	}
	t.Logf("%d manifests decoded: %s", len(objs), strings.Join(Summary(objs), ", "))
	return objs
}

// renderObjs renders the chart as release name in namespace and decodes
// the manifests strictly.
func renderObjs(t *testing.T, name, namespace string, vals map[string]any) []Object {
	t.Helper()
	out, err := RenderChart(context.Background(), chartDir, name, namespace, vals)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := DecodeStrict(out)
	if err != nil {
		t.Fatalf("strict decode: %v\nmanifests:\n%s", err, out)
	}
	return objs
}

// chartCase is one values file of the chart's ci/ folder and the facts its
// rendering must show.
type chartCase struct {
	values string
	check  func(t *testing.T, objs []Object)
}

func TestChart(t *testing.T) {
	cases := []chartCase{
		{"default-values.yaml", checkDefault},
		{"sidecar-values.yaml", checkSidecar},
		{"servicemonitor-values.yaml", checkServiceMonitor},
		{"external-configmap-values.yaml", checkExternalConfigMap},
		{"inline-cue-values.yaml", checkInlineCUE},
		{"inline-json-values.yaml", checkInlineJSON},
	}
	files, err := filepath.Glob(filepath.Join(chartDir, "ci", "*-values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(cases) {
		t.Errorf("ci/ has %d values files, the test checks %d: give each a check", len(files), len(cases))
	}
	total := 0
	for _, c := range cases {
		t.Run(strings.TrimSuffix(c.values, "-values.yaml"), func(t *testing.T) {
			objs := render(t, filepath.Join(chartDir, "ci", c.values))
			total += len(objs)
			checkCommon(t, objs)
			c.check(t, objs)
		})
	}
	t.Logf("%d manifests decoded strictly over %d values files", total, len(cases))
}

// TestChartRejects checks that contradictory or misspelt values fail at
// lint or render time, not in the cluster.
func TestChartRejects(t *testing.T) {
	cases := map[string]struct {
		vals map[string]any
		want string
		// schema: rejected by values.schema.json, so by helm lint too
		// (lint does not stop at a template's fail call).
		schema bool
	}{
		"two policies": {map[string]any{"policy": map[string]any{"cue": "package p", "json": "{}"}}, "at most one of", false},
		"no servers":   {map[string]any{"memcached": map[string]any{"enabled": false}}, "needs a policy", false},
		"misspelt key": {map[string]any{"memcached": map[string]any{"replicas": 3}}, "replicas", true},
		"bad mode":     {map[string]any{"mode": "deployment"}, "mode", true},
		"root app":     {map[string]any{"sidecar": map[string]any{"app": map[string]any{"runAsUser": 0}}}, "runAsUser", true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := RenderChart(context.Background(), chartDir, releaseName, namespace, c.vals)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("render error = %v, want one mentioning %q", err, c.want)
			}
			if _, err := LintChart(chartDir, namespace, c.vals); c.schema && err == nil {
				t.Errorf("helm lint passed")
			}
		})
	}
}

// podSpec is a workload's pod template, with the workload's name.
type podSpec struct {
	owner string
	spec  corev1.PodSpec
}

func podSpecs(objs []Object) []podSpec {
	var ps []podSpec
	for _, o := range objs {
		switch v := o.Value.(type) {
		case *appsv1.Deployment:
			ps = append(ps, podSpec{"Deployment " + v.Name, v.Spec.Template.Spec})
		case *appsv1.DaemonSet:
			ps = append(ps, podSpec{"DaemonSet " + v.Name, v.Spec.Template.Spec})
		case *appsv1.StatefulSet:
			ps = append(ps, podSpec{"StatefulSet " + v.Name, v.Spec.Template.Spec})
		case *corev1.Pod:
			ps = append(ps, podSpec{"Pod " + v.Name, v.Spec})
		}
	}
	return ps
}

// checkPods checks what every pod of the chart and the examples must have:
// non-root, read-only root file system, no privilege escalation, memory
// limits, and probes on long-running server containers.
func checkPods(t *testing.T, objs []Object) {
	t.Helper()
	for _, p := range podSpecs(objs) {
		if sc := p.spec.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
			t.Errorf("%s: pod securityContext.runAsNonRoot is not true", p.owner)
		}
		cs := append(slices.Clone(p.spec.InitContainers), p.spec.Containers...)
		for _, c := range cs {
			where := p.owner + " container " + c.Name
			sc := c.SecurityContext
			switch {
			case sc == nil:
				t.Errorf("%s: no securityContext", where)
				continue
			case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
				t.Errorf("%s: root file system is writable", where)
			case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
				t.Errorf("%s: privilege escalation allowed", where)
			case (sc.RunAsUser == nil || *sc.RunAsUser == 0) && (p.spec.SecurityContext.RunAsUser == nil || *p.spec.SecurityContext.RunAsUser == 0):
				t.Errorf("%s: no non-root runAsUser (the image's USER may be a name, which runAsNonRoot cannot check)", where)
			}
			if _, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok {
				t.Errorf("%s: no memory limit", where)
			}
			if c.Name == "mcroute" || c.Name == "memcached" {
				if c.LivenessProbe == nil || c.ReadinessProbe == nil {
					t.Errorf("%s: missing liveness or readiness probe", where)
				}
			}
			if c.Name == "mcroute" {
				checkMcrouteProbes(t, where, c)
			}
		}
	}
}

// checkMcrouteProbes checks that mcroute's probes ask the metrics listener's
// /healthz, and that the listener is on.
func checkMcrouteProbes(t *testing.T, where string, c corev1.Container) {
	t.Helper()
	if !slices.ContainsFunc(c.Args, func(a string) bool { return strings.HasPrefix(a, "--metrics-listen=") }) {
		t.Errorf("%s: no --metrics-listen, so no /healthz for the probes", where)
	}
	for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" {
			t.Errorf("%s: probe %+v is not an HTTP GET of /healthz", where, p)
			continue
		}
		if port := p.HTTPGet.Port.String(); !slices.ContainsFunc(c.Ports, func(cp corev1.ContainerPort) bool { return cp.Name == port }) {
			t.Errorf("%s: probe port %q is not a container port", where, port)
		}
	}
}

func checkCommon(t *testing.T, objs []Object) {
	t.Helper()
	checkPods(t, objs)
	// Every Service selects some rendered pods, and every ConfigMap a pod
	// mounts is rendered (or is the external one).
	var podLabels []labels.Set
	for _, o := range objs {
		switch v := o.Value.(type) {
		case *appsv1.Deployment:
			podLabels = append(podLabels, v.Spec.Template.Labels)
			checkSelector(t, "Deployment "+v.Name, v.Spec.Selector.MatchLabels, v.Spec.Template.Labels)
		case *appsv1.DaemonSet:
			podLabels = append(podLabels, v.Spec.Template.Labels)
			checkSelector(t, "DaemonSet "+v.Name, v.Spec.Selector.MatchLabels, v.Spec.Template.Labels)
		case *appsv1.StatefulSet:
			podLabels = append(podLabels, v.Spec.Template.Labels)
			checkSelector(t, "StatefulSet "+v.Name, v.Spec.Selector.MatchLabels, v.Spec.Template.Labels)
		}
	}
	for _, s := range All[*corev1.Service](objs) {
		sel := labels.SelectorFromSet(s.Spec.Selector)
		if !slices.ContainsFunc(podLabels, func(l labels.Set) bool { return sel.Matches(l) }) {
			t.Errorf("Service %s selects no rendered pod (%v)", s.Name, s.Spec.Selector)
		}
	}
	for _, pdb := range All[*policyv1.PodDisruptionBudget](objs) {
		sel := labels.SelectorFromSet(pdb.Spec.Selector.MatchLabels)
		if !slices.ContainsFunc(podLabels, func(l labels.Set) bool { return sel.Matches(l) }) {
			t.Errorf("PodDisruptionBudget %s selects no rendered pod", pdb.Name)
		}
	}
	// Every rendered policy compiles and builds.
	for _, cm := range All[*corev1.ConfigMap](objs) {
		for key, text := range cm.Data {
			if strings.HasSuffix(key, ".cue") || strings.HasSuffix(key, ".json") {
				validatePolicy(t, key, text)
			}
		}
	}
}

func checkSelector(t *testing.T, owner string, sel, podLabels map[string]string) {
	t.Helper()
	if len(sel) == 0 || !labels.SelectorFromSet(sel).Matches(labels.Set(podLabels)) {
		t.Errorf("%s: selector %v does not match its pod labels %v", owner, sel, podLabels)
	}
}

// mcrouteContainer returns the mcroute container of a pod spec.
func mcrouteContainer(t *testing.T, spec corev1.PodSpec) corev1.Container {
	t.Helper()
	for _, c := range append(slices.Clone(spec.InitContainers), spec.Containers...) {
		if c.Name == "mcroute" {
			return c
		}
	}
	t.Fatal("no mcroute container")
	return corev1.Container{}
}

// policyText returns the policy the chart rendered, by file name.
func policyText(t *testing.T, objs []Object, key string) string {
	t.Helper()
	for _, cm := range All[*corev1.ConfigMap](objs) {
		if text, ok := cm.Data[key]; ok {
			return text
		}
	}
	t.Fatalf("no ConfigMap holds %s (have %v)", key, Summary(objs))
	return ""
}

// checkStatefulSet checks the memcached tier and returns the pods' stable
// DNS names, as the policy must list them.
func checkStatefulSet(t *testing.T, objs []Object, replicas int) []string {
	t.Helper()
	sts, ok := Find[*appsv1.StatefulSet](objs)
	if !ok {
		t.Fatal("no memcached StatefulSet")
	}
	if sts.Spec.Replicas == nil || int(*sts.Spec.Replicas) != replicas {
		t.Errorf("StatefulSet replicas = %v, want %d", sts.Spec.Replicas, replicas)
	}
	var headless *corev1.Service
	for _, s := range All[*corev1.Service](objs) {
		if s.Name == sts.Spec.ServiceName {
			headless = s
		}
	}
	if headless == nil {
		t.Fatalf("StatefulSet serviceName %q is not a rendered Service", sts.Spec.ServiceName)
	}
	// Its port name makes the SRV name _memcache._tcp.<service> that
	// policy.discovery uses.
	if !slices.ContainsFunc(headless.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == "memcache" && p.Protocol == corev1.ProtocolTCP }) {
		t.Errorf("headless Service %s has no TCP port named memcache", headless.Name)
	}
	if headless.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("Service %s is not headless (clusterIP %q)", headless.Name, headless.Spec.ClusterIP)
	}
	if !labels.SelectorFromSet(headless.Spec.Selector).Matches(labels.Set(sts.Spec.Template.Labels)) {
		t.Errorf("headless Service %s does not select the StatefulSet's pods", headless.Name)
	}
	if !slices.ContainsFunc(All[*policyv1.PodDisruptionBudget](objs), func(p *policyv1.PodDisruptionBudget) bool {
		return labels.SelectorFromSet(p.Spec.Selector.MatchLabels).Matches(labels.Set(sts.Spec.Template.Labels))
	}) {
		t.Errorf("no PodDisruptionBudget covers the memcached pods")
	}
	var names []string
	for i := range replicas {
		names = append(names, fmt.Sprintf("%s-%d.%s.%s.svc.cluster.local:11211", sts.Name, i, headless.Name, namespace))
	}
	return names
}

// daemonSetProxy checks the DaemonSet's mcroute and returns its container.
func daemonSetProxy(t *testing.T, objs []Object, port int32) corev1.Container {
	t.Helper()
	ds, ok := Find[*appsv1.DaemonSet](objs)
	if !ok {
		t.Fatal("no mcroute DaemonSet")
	}
	c := mcrouteContainer(t, ds.Spec.Template.Spec)
	i := slices.IndexFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == "memcache" })
	if i < 0 || c.Ports[i].HostPort != port || c.Ports[i].ContainerPort != port {
		t.Errorf("mcroute ports %+v: want memcache on hostPort and containerPort %d", c.Ports, port)
	}
	if want := fmt.Sprintf("--listen=0.0.0.0:%d", port); !slices.Contains(c.Args, want) {
		t.Errorf("mcroute args %q lack %s", c.Args, want)
	}
	return c
}

func checkDefault(t *testing.T, objs []Object) {
	names := checkStatefulSet(t, objs, 3)
	c := daemonSetProxy(t, objs, 5000)
	if !slices.Contains(c.Args, "--config=/etc/mcroute/policy.cue") {
		t.Errorf("mcroute args %q do not serve policy.cue", c.Args)
	}
	policy := policyText(t, objs, "policy.cue")
	for _, n := range names {
		if !strings.Contains(policy, `"`+n+`"`) {
			t.Errorf("default policy does not list %s:\n%s", n, policy)
		}
	}
	if _, ok := Find[*ServiceMonitor](objs); ok {
		t.Error("ServiceMonitor rendered although serviceMonitor.enabled is false")
	}
	if _, ok := Find[*appsv1.Deployment](objs); ok {
		t.Error("sidecar Deployment rendered in daemonset mode")
	}
}

func checkSidecar(t *testing.T, objs []Object) {
	names := checkStatefulSet(t, objs, 5)
	if _, ok := Find[*appsv1.DaemonSet](objs); ok {
		t.Error("DaemonSet rendered in sidecar mode")
	}
	d, ok := Find[*appsv1.Deployment](objs)
	if !ok {
		t.Fatal("no app Deployment in sidecar mode")
	}
	if *d.Spec.Replicas != 3 {
		t.Errorf("app replicas = %d, want 3", *d.Spec.Replicas)
	}
	spec := d.Spec.Template.Spec
	mc := mcrouteContainer(t, spec)
	if mc.RestartPolicy == nil || *mc.RestartPolicy != corev1.ContainerRestartPolicyAlways || !slices.ContainsFunc(spec.InitContainers, func(c corev1.Container) bool { return c.Name == "mcroute" }) {
		t.Error("mcroute is not a native sidecar (an init container with restartPolicy Always)")
	}
	const sock = "/run/mcroute/mcroute.sock"
	if !slices.Contains(mc.Args, "--listen=unix:"+sock) {
		t.Errorf("mcroute args %q do not listen on unix:%s", mc.Args, sock)
	}
	app := spec.Containers[0]
	if !slices.ContainsFunc(app.Env, func(e corev1.EnvVar) bool { return e.Name == "MEMCACHED_SOCKET" && e.Value == sock }) {
		t.Errorf("app env %+v lacks MEMCACHED_SOCKET=%s", app.Env, sock)
	}
	// Both mount the same emptyDir at the socket's directory.
	vi := slices.IndexFunc(spec.Volumes, func(v corev1.Volume) bool { return v.EmptyDir != nil })
	if vi < 0 {
		t.Fatal("no emptyDir volume for the socket")
	}
	for _, c := range []corev1.Container{mc, app} {
		if !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool {
			return m.Name == spec.Volumes[vi].Name && m.MountPath == filepath.Dir(sock)
		}) {
			t.Errorf("container %s does not mount %s at %s", c.Name, spec.Volumes[vi].Name, filepath.Dir(sock))
		}
	}
	policy := policyText(t, objs, "policy.cue")
	for _, n := range names {
		if !strings.Contains(policy, n) {
			t.Errorf("policy does not list %s", n)
		}
	}
	if !slices.ContainsFunc(All[*policyv1.PodDisruptionBudget](objs), func(p *policyv1.PodDisruptionBudget) bool {
		return labels.SelectorFromSet(p.Spec.Selector.MatchLabels).Matches(labels.Set(d.Spec.Template.Labels))
	}) {
		t.Error("no PodDisruptionBudget covers the app pods")
	}
}

func checkServiceMonitor(t *testing.T, objs []Object) {
	checkStatefulSet(t, objs, 3)
	daemonSetProxy(t, objs, 5000)
	sm, ok := Find[*ServiceMonitor](objs)
	if !ok {
		t.Fatal("no ServiceMonitor")
	}
	if sm.Labels["release"] != "prometheus" {
		t.Errorf("ServiceMonitor labels %v lack release=prometheus", sm.Labels)
	}
	if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != "metrics" || sm.Spec.Endpoints[0].Path != "/metrics" || sm.Spec.Endpoints[0].Interval != "15s" {
		t.Errorf("ServiceMonitor endpoints = %+v", sm.Spec.Endpoints)
	}
	sel := labels.SelectorFromSet(sm.Spec.Selector.MatchLabels)
	var scraped []string
	for _, s := range All[*corev1.Service](objs) {
		if sel.Matches(labels.Set(s.Labels)) {
			scraped = append(scraped, s.Name)
			if !slices.ContainsFunc(s.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == "metrics" }) {
				t.Errorf("scraped Service %s has no metrics port", s.Name)
			}
		}
	}
	if len(scraped) != 1 {
		t.Errorf("ServiceMonitor selects Services %v, want the mcroute Service alone", scraped)
	}
	policy := policyText(t, objs, "policy.cue")
	if want := fmt.Sprintf("%q", "_memcache._tcp.demo-mcroute-memcached.cache.svc.cluster.local"); !strings.Contains(policy, "discovery") || !strings.Contains(policy, want) {
		t.Errorf("policy does not discover %s:\n%s", want, policy)
	}
}

func checkExternalConfigMap(t *testing.T, objs []Object) {
	if cms := All[*corev1.ConfigMap](objs); len(cms) != 0 {
		t.Errorf("ConfigMaps rendered although the policy is external: %v", Summary(objs))
	}
	c := daemonSetProxy(t, objs, 5000)
	if !slices.Contains(c.Args, "--config=/etc/mcroute/config.json") {
		t.Errorf("mcroute args %q do not read config.json", c.Args)
	}
	ds, _ := Find[*appsv1.DaemonSet](objs)
	if !slices.ContainsFunc(ds.Spec.Template.Spec.Volumes, func(v corev1.Volume) bool {
		return v.ConfigMap != nil && v.ConfigMap.Name == "my-routing-policy"
	}) {
		t.Error("no volume of ConfigMap my-routing-policy")
	}
	if n := len(All[*policyv1.PodDisruptionBudget](objs)); n != 0 {
		t.Errorf("%d PodDisruptionBudgets rendered, want none", n)
	}
}

func checkInlineCUE(t *testing.T, objs []Object) {
	checkStatefulSet(t, objs, 3)
	daemonSetProxy(t, objs, 5000)
	vals, err := ReadValues(filepath.Join(chartDir, "ci", "inline-cue-values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := vals["policy"].(map[string]any)["cue"].(string)
	if got := policyText(t, objs, "policy.cue"); strings.TrimSpace(got) != strings.TrimSpace(want) {
		t.Errorf("rendered policy.cue differs from the values:\n%s", got)
	}
}

func checkInlineJSON(t *testing.T, objs []Object) {
	if _, ok := Find[*appsv1.StatefulSet](objs); ok {
		t.Error("memcached StatefulSet rendered although memcached.enabled is false")
	}
	c := daemonSetProxy(t, objs, 11211)
	if !slices.Contains(c.Args, "--config=/etc/mcroute/config.json") {
		t.Errorf("mcroute args %q do not read config.json", c.Args)
	}
	if !strings.Contains(policyText(t, objs, "config.json"), "PoolRoute|A") {
		t.Error("config.json is not the inline JSON")
	}
}
