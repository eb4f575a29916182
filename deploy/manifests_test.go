package deploy

import (
	"maps"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mrqa-dev/mrqa/internal/exitcode"
)

// kubeDir holds the manifests; the guide shows their command lines.
const (
	kubeDir = "kubernetes"
	guide   = "../docs/kubernetes.md"
)

// sweep is what the tests read of the sweep Job's command line:
// exec -shard $(JOB_COMPLETION_INDEX)/N -resume -out PATTERN FILE.
type sweep struct {
	n        int    // the shard count
	outDir   string // -out with the index as $(JOB_COMPLETION_INDEX)
	scenario string // the scenario file's path in the pod
}

const indexVar = "$(JOB_COMPLETION_INDEX)"

// readSweep parses the sweep Job's arguments, failing on any other shape.
func readSweep(t *testing.T, c container) sweep {
	t.Helper()
	a := c.Args
	if len(a) != 7 || a[0] != "exec" || a[1] != "-shard" || a[3] != "-resume" || a[4] != "-out" {
		t.Fatalf("sweep args %q: want exec -shard %s/N -resume -out DIR FILE", a, indexVar)
	}
	count, ok := strings.CutPrefix(a[2], indexVar+"/")
	n, err := strconv.Atoi(count)
	if !ok || err != nil || n < 1 {
		t.Fatalf("-shard %q: want %s/N", a[2], indexVar)
	}
	if strings.Count(a[5], indexVar) != 1 {
		t.Fatalf("-out %q: each shard needs its own folder, named by %s", a[5], indexVar)
	}
	return sweep{n: n, outDir: a[5], scenario: a[6]}
}

// shardDir is shard i's folder.
func (s sweep) shardDir(i int) string { return strings.Replace(s.outDir, indexVar, strconv.Itoa(i), 1) }

// theContainer returns a pod's only container.
func theContainer(t *testing.T, spec podSpec) container {
	t.Helper()
	if len(spec.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(spec.Containers))
	}
	return spec.Containers[0]
}

// TestManifests checks what each manifest must say and what they must say
// alike: one shard count everywhere, the merge reading exactly the shards'
// folders, mounts of volumes that exist, the ConfigMap holding the file
// the command runs, the one volume claim, non-root and read-only
// containers, one image, and the guide's command lines.
func TestManifests(t *testing.T) {
	m := loadDir(t, kubeDir)
	img := readImage(t)
	if len(m.kustomizations) != 1 || len(m.pvcs) != 1 {
		t.Fatalf("%d kustomizations and %d volume claims, want one of each", len(m.kustomizations), len(m.pvcs))
	}
	k, claim := m.kustomizations[0], m.pvcs[0]
	sweepJob, mergeJob := m.job(t, "mrqa-sweep"), m.job(t, "mrqa-merge")
	sw := readSweep(t, theContainer(t, sweepJob.Spec.Template.Spec))

	t.Run("kustomization names every manifest", func(t *testing.T) {
		var want []string
		for f := range m.files {
			if f != "kustomization.yaml" && f != "results-pod.yaml" { // the pod is applied by hand, when copying results out
				want = append(want, f)
			}
		}
		if got := slices.Sorted(slices.Values(k.Resources)); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
			t.Errorf("kustomization resources %v, want the manifests %v", got, want)
		}
		if len(k.Images) != 1 || k.Images[0].NewName == "" {
			t.Errorf("kustomization images %+v: want the one image, renamed to where it is pushed", k.Images)
		}
	})
	t.Run("sweep job", func(t *testing.T) { checkSweepJob(t, sweepJob.Spec, sw) })
	t.Run("merge job", func(t *testing.T) { checkMergeJob(t, mergeJob.Spec, sw) })
	t.Run("scenario volume", func(t *testing.T) { checkScenarioVolume(t, sweepJob.Spec.Template.Spec, k, sw) })
	t.Run("results volume", func(t *testing.T) {
		if !slices.Equal(claim.Spec.AccessModes, []string{"ReadWriteMany"}) {
			t.Errorf("claim %s access modes %v: the shards' pods write at once from different nodes, ReadWriteMany", claim.Metadata.Name, claim.Spec.AccessModes)
		}
		for _, spec := range podSpecs(m) {
			checkResultsVolume(t, spec, claim.Metadata.Name, sw)
		}
	})
	t.Run("writes only to the results volume", func(t *testing.T) {
		// The root filesystem is read-only: the corpus cache must be on the volume.
		results, cache := path.Dir(sw.outDir), ""
		for _, e := range theContainer(t, sweepJob.Spec.Template.Spec).Env {
			if e.Name == "XDG_CACHE_HOME" {
				cache = e.Value
			}
		}
		if !strings.HasPrefix(cache, results+"/") {
			t.Errorf("XDG_CACHE_HOME %q is not on the results volume %s: downloads would hit the read-only root", cache, results)
		}
	})
	t.Run("security", func(t *testing.T) {
		for _, spec := range podSpecs(m) {
			checkSecurity(t, spec, img.uid)
		}
	})
	t.Run("image and resources", func(t *testing.T) {
		for _, j := range []job{sweepJob, mergeJob} {
			c := theContainer(t, j.Spec.Template.Spec)
			if c.Image != k.Images[0].Name || len(c.Command) != 0 {
				t.Errorf("job %s: image %q command %q, want image %q (the kustomization's) and its entrypoint", j.Metadata.Name, c.Image, c.Command, k.Images[0].Name)
			}
			checkResources(t, j.Metadata.Name, c.Resources)
		}
	})
	t.Run("guide shows the command lines", func(t *testing.T) {
		for _, j := range []job{sweepJob, mergeJob} {
			c := theContainer(t, j.Spec.Template.Spec)
			want := "mrqa " + strings.Join(c.Args, " ")
			if got := guideLines(t, "mrqa "+c.Args[0]+" "); !slices.Equal(got, []string{want}) {
				t.Errorf("%s shows %q; job %s runs %q", guide, got, j.Metadata.Name, want)
			}
		}
	})
}

// checkSweepJob: N shards at once, a pod per index retried with -resume,
// never retried for an exit code that would only repeat itself.
func checkSweepJob(t *testing.T, s jobSpec, sw sweep) {
	if s.CompletionMode != "Indexed" || s.Completions == nil || s.Parallelism == nil ||
		*s.Completions != sw.n || *s.Parallelism != sw.n {
		t.Errorf("completionMode %q, completions %v, parallelism %v: want Indexed, %d and %d as -shard .../%d says",
			s.CompletionMode, deref(s.Completions), deref(s.Parallelism), sw.n, sw.n, sw.n)
	}
	if s.BackoffLimitPerIndex == nil || *s.BackoffLimitPerIndex < 1 || s.Template.Spec.RestartPolicy != "Never" {
		t.Errorf("backoffLimitPerIndex %v, restartPolicy %q: want each index retried (a new pod: Never) and resumed",
			deref(s.BackoffLimitPerIndex), s.Template.Spec.RestartPolicy)
	}
	if s.Suspend {
		t.Errorf("the sweep is suspended")
	}
	var failIndex []int
	var ignoresDisruption bool
	for _, r := range s.PodFailurePolicy.Rules {
		switch {
		case r.Action == "FailIndex" && r.OnExitCodes != nil && r.OnExitCodes.Operator == "In":
			failIndex = append(failIndex, r.OnExitCodes.Values...)
		case r.Action == "Ignore" && len(r.OnPodConditions) == 1 && r.OnPodConditions[0].Type == "DisruptionTarget":
			ignoresDisruption = true
		}
	}
	if want := []int{exitcode.Usage, exitcode.Expect}; !slices.Equal(failIndex, want) {
		t.Errorf("FailIndex on exit codes %v, want %v: an invalid scenario and an expect not met end the same way again", failIndex, want)
	}
	if !ignoresDisruption {
		t.Errorf("no Ignore rule for DisruptionTarget: an evicted pod would use up its index's retries")
	}
}

// checkMergeJob: created suspended, it merges exactly the N shard folders.
func checkMergeJob(t *testing.T, s jobSpec, sw sweep) {
	a := theContainer(t, s.Template.Spec).Args
	want := []string{"merge", "-out", path.Join(path.Dir(sw.outDir), "merged")}
	for i := range sw.n {
		want = append(want, sw.shardDir(i))
	}
	if !slices.Equal(a, want) {
		t.Errorf("merge args %q, want %q: every shard's folder, 0 to %d, as the sweep's -out names them", a, want, sw.n-1)
	}
	if !s.Suspend {
		t.Errorf("the merge Job is not suspended: it would run before the sweep has finished")
	}
}

// checkScenarioVolume: the file the sweep runs is the ConfigMap's key,
// mounted where the command looks.
func checkScenarioVolume(t *testing.T, spec podSpec, k kustomization, sw sweep) {
	if len(k.ConfigMapGenerator) != 1 || !k.ConfigMapGenerator[0].Options.DisableNameSuffixHash {
		t.Fatalf("configMapGenerator %+v: want one, named without a hash suffix as kubectl create configmap names it", k.ConfigMapGenerator)
	}
	gen := k.ConfigMapGenerator[0]
	dir, file := path.Split(sw.scenario)
	if !slices.Equal(gen.Files, []string{file}) {
		t.Errorf("ConfigMap %s holds %v; the sweep runs %s", gen.Name, gen.Files, sw.scenario)
	}
	v, mnt := mountOf(t, spec, path.Clean(dir))
	if v.ConfigMap == nil || v.ConfigMap.Name != gen.Name || !mnt.ReadOnly {
		t.Errorf("%s is volume %+v, read-only %v; want ConfigMap %s, read-only", dir, v, mnt.ReadOnly, gen.Name)
	}
}

// checkResultsVolume: the results folder is the claim, mounted at the
// folder above every shard's; every mount's volume exists and every volume
// is mounted.
func checkResultsVolume(t *testing.T, spec podSpec, claim string, sw sweep) {
	c := theContainer(t, spec)
	var mounted []string
	for _, vm := range c.VolumeMounts {
		mounted = append(mounted, vm.Name)
	}
	var declared []string
	for _, v := range spec.Volumes {
		declared = append(declared, v.Name)
	}
	if !slices.Equal(slices.Sorted(slices.Values(mounted)), slices.Sorted(slices.Values(declared))) {
		t.Errorf("container %s mounts %v; the pod declares %v", c.Name, mounted, declared)
	}
	v, _ := mountOf(t, spec, path.Dir(sw.outDir))
	if v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != claim {
		t.Errorf("%s is volume %+v, want claim %s", path.Dir(sw.outDir), v, claim)
	}
}

// mountOf returns the volume mounted at dir and its mount.
func mountOf(t *testing.T, spec podSpec, dir string) (volume, volumeMount) {
	t.Helper()
	for _, vm := range theContainer(t, spec).VolumeMounts {
		if vm.MountPath != dir {
			continue
		}
		for _, v := range spec.Volumes {
			if v.Name == vm.Name {
				return v, vm
			}
		}
		t.Fatalf("mount %s names volume %q, which the pod does not declare", dir, vm.Name)
	}
	t.Fatalf("nothing is mounted at %s", dir)
	return volume{}, volumeMount{}
}

// checkSecurity: the restricted Pod Security Standard, as the image's user,
// with no service account token (mrqa talks to no API server).
func checkSecurity(t *testing.T, spec podSpec, uid int) {
	sc := spec.SecurityContext
	if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || deref(sc.RunAsUser) != strconv.Itoa(uid) || sc.SeccompProfile.Type != "RuntimeDefault" {
		t.Errorf("pod securityContext %+v: want runAsNonRoot, runAsUser %d (the image's USER), seccomp RuntimeDefault", sc, uid)
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Errorf("the pod mounts a service account token it has no use for")
	}
	c := theContainer(t, spec).SecurityContext
	if c.ReadOnlyRootFilesystem == nil || !*c.ReadOnlyRootFilesystem || c.AllowPrivilegeEscalation == nil || *c.AllowPrivilegeEscalation ||
		!slices.Equal(c.Capabilities.Drop, []string{"ALL"}) {
		t.Errorf("container securityContext %+v: want a read-only root, no privilege escalation, every capability dropped", c)
	}
}

// checkResources: requests for scheduling, a memory limit, and no CPU
// limit, whose throttling would stall the client mid-measurement.
func checkResources(t *testing.T, name string, r resources) {
	if r.Requests["cpu"] == "" || r.Requests["memory"] == "" || r.Limits["memory"] == "" {
		t.Errorf("job %s resources %+v: want cpu and memory requests and a memory limit", name, r)
	}
	if _, ok := r.Limits["cpu"]; ok {
		t.Errorf("job %s has a CPU limit: throttling would stall the client and distort what it measures", name)
	}
}

// podSpecs returns every pod spec of the manifests.
func podSpecs(m *manifests) []podSpec {
	var specs []podSpec
	for _, name := range slices.Sorted(maps.Keys(m.jobs)) {
		specs = append(specs, m.jobs[name].Spec.Template.Spec)
	}
	for _, p := range m.pods {
		specs = append(specs, p.Spec)
	}
	return specs
}

// guideLines returns the lines of the guide's code blocks that start with
// prefix.
func guideLines(t *testing.T, prefix string) []string {
	t.Helper()
	b, err := os.ReadFile(guide)
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	inCode := false
	for _, l := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(l)
		if strings.HasPrefix(trimmed, "```") {
			inCode = !inCode
			continue
		}
		if inCode && strings.HasPrefix(trimmed, prefix) {
			found = append(found, trimmed)
		}
	}
	return found
}

func deref(p *int) string {
	if p == nil {
		return "unset"
	}
	return strconv.Itoa(*p)
}
