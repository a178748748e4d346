package helmcheck

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

// Object is a rendered document decoded: typed for built-in kinds, unstructured for custom ones.
type Object struct {
	Manifest
	GVK          schema.GroupVersionKind
	Name         string
	Typed        runtime.Object             // nil for custom resources
	Unstructured *unstructured.Unstructured // always set
}

// strictDecoder is client-go's scheme (every built-in API type) with strict decoding: an unknown
// or duplicate field is an error, as `kubectl apply --validate=strict` makes it on a server.
var strictDecoder = serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()

// CRD is one served version of a CustomResourceDefinition, ready to validate objects with.
type CRD struct {
	File       string
	GVK        schema.GroupVersionKind
	Namespaced bool
	validator  validation.SchemaValidator
	structural *structuralschema.Structural
	cel        *cel.Validator
}

// LoadCRDs reads the operators' CRDs vendored under testdata/crds (see testdata/crds/SOURCES.md).
func LoadCRDs(dir string) (map[schema.GroupVersionKind]*CRD, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	out := map[schema.GroupVersionKind]*CRD{}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.UnmarshalStrict(data, crd); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		for _, version := range crd.Spec.Versions {
			if !version.Served || version.Schema == nil {
				continue
			}
			internal := &apiextensions.CustomResourceValidation{}
			if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(version.Schema, internal, nil); err != nil {
				return nil, fmt.Errorf("%s %s: %w", file, version.Name, err)
			}
			validator, _, err := validation.NewSchemaValidator(internal.OpenAPIV3Schema)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", file, version.Name, err)
			}
			structural, err := structuralschema.NewStructural(internal.OpenAPIV3Schema)
			if err != nil {
				return nil, fmt.Errorf("%s %s: not a structural schema: %w", file, version.Name, err)
			}
			gvk := schema.GroupVersionKind{Group: crd.Spec.Group, Version: version.Name, Kind: crd.Spec.Names.Kind}
			out[gvk] = &CRD{
				File:       filepath.Base(file),
				GVK:        gvk,
				Namespaced: crd.Spec.Scope == apiextensionsv1.NamespaceScoped,
				validator:  validator,
				structural: structural,
				cel:        cel.NewValidator(structural, true, celconfig.PerCallLimit),
			}
		}
	}
	return out, nil
}

// Validate checks a custom resource as an API server would on create: the OpenAPI schema, the
// CEL rules (x-kubernetes-validations), and no field the schema does not know (which a server
// would prune silently, and strict field validation rejects).
func (c *CRD) Validate(obj *unstructured.Unstructured) field.ErrorList {
	errs := validation.ValidateCustomResource(nil, obj.UnstructuredContent(), c.validator)
	if c.cel != nil {
		celErrs, _ := c.cel.Validate(context.Background(), nil, c.structural, obj.UnstructuredContent(), nil, celconfig.RuntimeCELCostBudget)
		errs = append(errs, celErrs...)
	}
	copied := obj.DeepCopy().UnstructuredContent()
	pruned := pruning.PruneWithOptions(copied, c.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
	for _, path := range pruned {
		errs = append(errs, field.Forbidden(field.NewPath(path), "unknown field (not in the CRD schema)"))
	}
	return errs
}

// Decode decodes every manifest: built-in kinds strictly into their Go types, custom kinds
// against their CRD. It returns the objects and one error per document that fails.
func Decode(manifests []Manifest, crds map[schema.GroupVersionKind]*CRD) ([]Object, []error) {
	var objects []Object
	var problems []error
	for _, m := range manifests {
		// As an API server reads it: JSON, integers as int64 (CEL rules compare types).
		u := &unstructured.Unstructured{}
		jsonData, err := yaml.YAMLToJSON([]byte(m.YAML))
		if err == nil {
			err = utiljson.Unmarshal(jsonData, &u.Object)
		}
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: not YAML: %w", m.Source, err))
			continue
		}
		gvk := u.GroupVersionKind()
		where := fmt.Sprintf("%s (%s %s)", m.Source, gvk.Kind, u.GetName())
		obj := Object{Manifest: m, GVK: gvk, Name: u.GetName(), Unstructured: u}
		if scheme.Scheme.Recognizes(gvk) {
			typed, _, err := strictDecoder.Decode([]byte(m.YAML), nil, nil)
			if err != nil {
				problems = append(problems, fmt.Errorf("%s: %w", where, err))
				continue
			}
			obj.Typed = typed
		} else if crd, ok := crds[gvk]; ok {
			if errs := crd.Validate(u); len(errs) > 0 {
				problems = append(problems, fmt.Errorf("%s: against %s: %w", where, crd.File, errs.ToAggregate()))
				continue
			}
		} else {
			problems = append(problems, fmt.Errorf("%s: no API type or CRD known for %s", where, gvk))
			continue
		}
		if u.GetNamespace() != "" && u.GetNamespace() != Namespace {
			problems = append(problems, fmt.Errorf("%s: namespace %q outside the release's", where, u.GetNamespace()))
		}
		objects = append(objects, obj)
	}
	return objects, problems
}

// Kind filters objects by kind.
func Kind(objects []Object, kind string) []Object {
	var out []Object
	for _, o := range objects {
		if o.GVK.Kind == kind {
			out = append(out, o)
		}
	}
	return out
}

// Find returns the object of a kind and name, or nil.
func Find(objects []Object, kind, name string) *Object {
	for i := range objects {
		if objects[i].GVK.Kind == kind && objects[i].Name == name {
			return &objects[i]
		}
	}
	return nil
}

// Describe names an object for messages.
func (o Object) Describe() string {
	return strings.TrimSpace(fmt.Sprintf("%s/%s", o.GVK.Kind, o.Name))
}
