package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The Kubernetes and kustomize fields deploy/kubernetes uses, as structs
// decoded strictly: a field these do not know (a misspelt one, or one a
// manifest gained without its test) fails the decoding.

type typeMeta struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
}

type objectMeta struct {
	Name   string            `yaml:"name"`
	Labels map[string]string `yaml:"labels"`
}

type kustomization struct {
	typeMeta           `yaml:",inline"`
	Labels             []labelSet     `yaml:"labels"`
	Resources          []string       `yaml:"resources"`
	ConfigMapGenerator []configMapGen `yaml:"configMapGenerator"`
	Images             []imageSet     `yaml:"images"`
}

type labelSet struct {
	Pairs map[string]string `yaml:"pairs"`
}

type configMapGen struct {
	Name    string   `yaml:"name"`
	Files   []string `yaml:"files"`
	Options struct {
		DisableNameSuffixHash bool `yaml:"disableNameSuffixHash"`
	} `yaml:"options"`
}

type imageSet struct {
	Name    string `yaml:"name"`
	NewName string `yaml:"newName"`
	NewTag  string `yaml:"newTag"`
}

type configMap struct {
	typeMeta `yaml:",inline"`
	Metadata objectMeta        `yaml:"metadata"`
	Data     map[string]string `yaml:"data"`
}

type pvc struct {
	typeMeta `yaml:",inline"`
	Metadata objectMeta `yaml:"metadata"`
	Spec     struct {
		AccessModes      []string  `yaml:"accessModes"`
		StorageClassName *string   `yaml:"storageClassName"`
		Resources        resources `yaml:"resources"`
	} `yaml:"spec"`
}

type job struct {
	typeMeta `yaml:",inline"`
	Metadata objectMeta `yaml:"metadata"`
	Spec     jobSpec    `yaml:"spec"`
}

type jobSpec struct {
	CompletionMode       string            `yaml:"completionMode"`
	Completions          *int              `yaml:"completions"`
	Parallelism          *int              `yaml:"parallelism"`
	BackoffLimit         *int              `yaml:"backoffLimit"`
	BackoffLimitPerIndex *int              `yaml:"backoffLimitPerIndex"`
	Suspend              bool              `yaml:"suspend"`
	PodFailurePolicy     *podFailurePolicy `yaml:"podFailurePolicy"`
	Template             struct {
		Metadata objectMeta `yaml:"metadata"`
		Spec     podSpec    `yaml:"spec"`
	} `yaml:"template"`
}

type podFailurePolicy struct {
	Rules []struct {
		Action      string `yaml:"action"`
		OnExitCodes *struct {
			ContainerName string `yaml:"containerName"`
			Operator      string `yaml:"operator"`
			Values        []int  `yaml:"values"`
		} `yaml:"onExitCodes"`
		OnPodConditions []struct {
			Type string `yaml:"type"`
		} `yaml:"onPodConditions"`
	} `yaml:"rules"`
}

type pod struct {
	typeMeta `yaml:",inline"`
	Metadata objectMeta `yaml:"metadata"`
	Spec     podSpec    `yaml:"spec"`
}

type podSpec struct {
	RestartPolicy                string             `yaml:"restartPolicy"`
	AutomountServiceAccountToken *bool              `yaml:"automountServiceAccountToken"`
	EnableServiceLinks           *bool              `yaml:"enableServiceLinks"`
	SecurityContext              podSecurityContext `yaml:"securityContext"`
	Containers                   []container        `yaml:"containers"`
	Volumes                      []volume           `yaml:"volumes"`
}

type podSecurityContext struct {
	RunAsNonRoot   *bool `yaml:"runAsNonRoot"`
	RunAsUser      *int  `yaml:"runAsUser"`
	RunAsGroup     *int  `yaml:"runAsGroup"`
	FSGroup        *int  `yaml:"fsGroup"`
	SeccompProfile struct {
		Type string `yaml:"type"`
	} `yaml:"seccompProfile"`
}

type container struct {
	Name            string                   `yaml:"name"`
	Image           string                   `yaml:"image"`
	Command         []string                 `yaml:"command"`
	Args            []string                 `yaml:"args"`
	Env             []envVar                 `yaml:"env"`
	Resources       resources                `yaml:"resources"`
	SecurityContext containerSecurityContext `yaml:"securityContext"`
	VolumeMounts    []volumeMount            `yaml:"volumeMounts"`
}

type envVar struct {
	Name      string `yaml:"name"`
	Value     string `yaml:"value"`
	ValueFrom *struct {
		SecretKeyRef *struct {
			Name     string `yaml:"name"`
			Key      string `yaml:"key"`
			Optional bool   `yaml:"optional"`
		} `yaml:"secretKeyRef"`
	} `yaml:"valueFrom"`
}

type resources struct {
	Requests map[string]string `yaml:"requests"`
	Limits   map[string]string `yaml:"limits"`
}

type containerSecurityContext struct {
	AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
	ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
	Capabilities             struct {
		Drop []string `yaml:"drop"`
	} `yaml:"capabilities"`
}

type volumeMount struct {
	Name      string `yaml:"name"`
	MountPath string `yaml:"mountPath"`
	ReadOnly  bool   `yaml:"readOnly"`
}

type volume struct {
	Name      string `yaml:"name"`
	ConfigMap *struct {
		Name string `yaml:"name"`
	} `yaml:"configMap"`
	PersistentVolumeClaim *struct {
		ClaimName string `yaml:"claimName"`
	} `yaml:"persistentVolumeClaim"`
}

// manifests is every object of a set of YAML documents, by kind.
type manifests struct {
	kustomizations []kustomization
	configMaps     []configMap
	pvcs           []pvc
	jobs           map[string]job // by name
	pods           []pod
	files          map[string][]string // file -> "Kind/name" of its objects
}

// loadDir decodes every YAML file in dir.
func loadDir(t *testing.T, dir string) *manifests {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no YAML in %s (%v)", dir, err)
	}
	m := &manifests{jobs: map[string]job{}, files: map[string][]string{}}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.add(filepath.Base(name), b); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// add decodes the documents of one file: a first pass reads each one's
// kind, a second decodes it strictly into that kind's struct.
func (m *manifests) add(file string, b []byte) error {
	kinds, err := docKinds(b)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	for i, kind := range kinds {
		name, err := m.decode(dec, kind)
		if err != nil {
			return fmt.Errorf("%s, document %d (%s): %w", file, i+1, kind, err)
		}
		m.files[file] = append(m.files[file], kind+"/"+name)
	}
	return nil
}

// docKinds returns the kind of every document in b, leniently.
func docKinds(b []byte) ([]string, error) {
	var kinds []string
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var tm typeMeta
		err := dec.Decode(&tm)
		if errors.Is(err, io.EOF) {
			return kinds, nil
		}
		if err != nil {
			return nil, err
		}
		kinds = append(kinds, tm.Kind)
	}
}

// decode decodes the decoder's next document as kind and files it.
func (m *manifests) decode(dec *yaml.Decoder, kind string) (string, error) {
	switch kind {
	case "Kustomization":
		var k kustomization
		err := dec.Decode(&k)
		m.kustomizations = append(m.kustomizations, k)
		return "", err
	case "ConfigMap":
		var c configMap
		err := dec.Decode(&c)
		m.configMaps = append(m.configMaps, c)
		return c.Metadata.Name, err
	case "PersistentVolumeClaim":
		var p pvc
		err := dec.Decode(&p)
		m.pvcs = append(m.pvcs, p)
		return p.Metadata.Name, err
	case "Job":
		var j job
		err := dec.Decode(&j)
		m.jobs[j.Metadata.Name] = j
		return j.Metadata.Name, err
	case "Pod":
		var p pod
		err := dec.Decode(&p)
		m.pods = append(m.pods, p)
		return p.Metadata.Name, err
	}
	return "", fmt.Errorf("a kind this test does not know: teach it the fields, then check them")
}

// job returns the Job of that name, failing when there is none.
func (m *manifests) job(t *testing.T, name string) job {
	t.Helper()
	j, ok := m.jobs[name]
	if !ok {
		t.Fatalf("no Job %q among %v", name, slices.Sorted(maps.Keys(m.jobs)))
	}
	return j
}

// TestStrictDecoding checks the decoding the manifest tests rely on
// refuses a misspelt field, in a nested struct as at the top.
func TestStrictDecoding(t *testing.T) {
	for name, doc := range map[string]string{
		"top level":    "apiVersion: batch/v1\nkind: Job\nmetadata: {name: x}\nspce: {}\n",
		"nested":       "apiVersion: batch/v1\nkind: Job\nmetadata: {name: x}\nspec:\n  template:\n    spec:\n      containers:\n        - name: m\n          agrs: [exec]\n",
		"unknown kind": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n",
	} {
		m := &manifests{jobs: map[string]job{}, files: map[string][]string{}}
		if err := m.add("x.yaml", []byte(doc)); err == nil {
			t.Errorf("%s: %q decoded without an error", name, doc)
		} else if !strings.Contains(err.Error(), "x.yaml") {
			t.Errorf("%s: error %q does not name the file", name, err)
		}
	}
}
