package chartcheck

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// TestAppExamples decodes the manifests of examples/kubernetes/app strictly
// and checks the two patterns they show.
func TestAppExamples(t *testing.T) {
	files, err := filepath.Glob("../app/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no manifests in ../app")
	}
	byFile := map[string][]Object{}
	total := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := DecodeStrict(string(b))
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		byFile[filepath.Base(f)] = objs
		total += len(objs)
		checkCommon(t, objs)
	}
	t.Logf("%d manifests decoded strictly from %d files", total, len(files))

	t.Run("node-local", func(t *testing.T) {
		d, ok := Find[*appsv1.Deployment](byFile["node-local.yaml"])
		if !ok {
			t.Fatal("no Deployment in node-local.yaml")
		}
		env := d.Spec.Template.Spec.Containers[0].Env
		i := slices.IndexFunc(env, func(e corev1.EnvVar) bool { return e.Name == "NODE_NAME" })
		if i < 0 || env[i].ValueFrom == nil || env[i].ValueFrom.FieldRef == nil || env[i].ValueFrom.FieldRef.FieldPath != "spec.nodeName" {
			t.Fatalf("NODE_NAME is not from the downward API's spec.nodeName: %+v", env)
		}
		// Kubernetes expands $(NODE_NAME) only if it is defined earlier.
		j := slices.IndexFunc(env, func(e corev1.EnvVar) bool { return e.Name == "MEMCACHED_SERVERS" })
		if j < i || env[j].Value != "$(NODE_NAME):5000" {
			t.Errorf("MEMCACHED_SERVERS = %+v, want $(NODE_NAME):5000 after NODE_NAME", env)
		}
	})

	t.Run("php-fpm-sidecar", func(t *testing.T) {
		objs := byFile["php-fpm-sidecar.yaml"]
		d, ok := Find[*appsv1.Deployment](objs)
		if !ok {
			t.Fatal("no Deployment in php-fpm-sidecar.yaml")
		}
		spec := d.Spec.Template.Spec
		mc := mcrouteContainer(t, spec)
		if mc.RestartPolicy == nil || *mc.RestartPolicy != corev1.ContainerRestartPolicyAlways {
			t.Error("mcroute is not a native sidecar")
		}
		var listen string
		for _, a := range mc.Args {
			if v, ok := strings.CutPrefix(a, "--listen=unix:"); ok {
				listen = v
			}
		}
		php := spec.Containers[slices.IndexFunc(spec.Containers, func(c corev1.Container) bool { return c.Name == "php-fpm" })]
		if !slices.ContainsFunc(php.Env, func(e corev1.EnvVar) bool { return e.Name == "MEMCACHED_SOCKET" && e.Value == listen }) {
			t.Errorf("php-fpm's MEMCACHED_SOCKET is not mcroute's socket %q", listen)
		}
		for _, c := range []corev1.Container{mc, php} {
			if !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool {
				return m.Name == "mcroute-socket" && m.MountPath == filepath.Dir(listen)
			}) {
				t.Errorf("%s does not mount the socket's emptyDir at %s", c.Name, filepath.Dir(listen))
			}
		}
		if !slices.Contains(mc.Args, "--socket-mode=0666") {
			t.Error("the socket is not open to php-fpm's www-data workers (--socket-mode=0666)")
		}
	})
}

// TestTutorialPolicy runs the tutorial's CI steps on its policy (lint
// --strict, route tests) and checks that the policy lists the pods the chart
// deploys as release "cache" in namespace "default", as the tutorial says.
func TestTutorialPolicy(t *testing.T) {
	const dir = "../policy"
	for _, args := range [][]string{{"lint", "--strict", dir}, {"test", dir}} {
		out, err := exec.Command(mcrouteBin, args...).CombinedOutput()
		if err != nil {
			t.Errorf("mcroute %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	policy, err := os.ReadFile(filepath.Join(dir, "policy.cue"))
	if err != nil {
		t.Fatal(err)
	}
	sts, ok := Find[*appsv1.StatefulSet](renderObjs(t, "cache", "default", nil))
	if !ok {
		t.Fatal("no StatefulSet")
	}
	for i := range int(*sts.Spec.Replicas) {
		name := fmt.Sprintf("%s-%d.%s.default.svc.cluster.local:11211", sts.Name, i, sts.Spec.ServiceName)
		if !strings.Contains(string(policy), `"`+name+`"`) {
			t.Errorf("the tutorial policy does not list the chart's pod %s", name)
		}
	}
}
