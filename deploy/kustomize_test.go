package deploy

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestKustomizeBuild renders the kustomization with kubectl, offline, and
// checks what kubectl apply -k would create: the objects of the files it
// names, the ConfigMap holding the scenario file byte for byte, the image
// renamed in both Jobs, and every object labelled. It skips where kubectl
// is not installed; the checks of the files themselves (TestManifests) do
// not need it.
func TestKustomizeBuild(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, kubectl, "kustomize", kubeDir)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl kustomize %s: %v\n%s", kubeDir, err, stderr.String())
	}
	files := loadDir(t, kubeDir)
	k := files.kustomizations[0]
	built := &manifests{jobs: map[string]job{}, files: map[string][]string{}}
	if err := built.add("kubectl kustomize", out); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range k.Resources {
		want = append(want, files.files[f]...)
	}
	want = append(want, "ConfigMap/"+k.ConfigMapGenerator[0].Name)
	if got := built.files["kubectl kustomize"]; !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
		t.Errorf("kustomize built %v, want %v", got, want)
	}
	scenario, err := os.ReadFile(filepath.Join(kubeDir, k.ConfigMapGenerator[0].Files[0]))
	if err != nil {
		t.Fatal(err)
	}
	if len(built.configMaps) != 1 || built.configMaps[0].Data[k.ConfigMapGenerator[0].Files[0]] != string(scenario) {
		t.Errorf("the built ConfigMap does not hold %s as it is", k.ConfigMapGenerator[0].Files[0])
	}
	image := k.Images[0].NewName + ":" + k.Images[0].NewTag
	for name, j := range built.jobs {
		if c := theContainer(t, j.Spec.Template.Spec); c.Image != image {
			t.Errorf("job %s runs image %q, want %q", name, c.Image, image)
		}
		if j.Metadata.Labels["app.kubernetes.io/name"] != "mrqa" {
			t.Errorf("job %s is not labelled app.kubernetes.io/name=mrqa", name)
		}
	}
}
