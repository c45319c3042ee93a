package checks

import (
	"errors"
	"fmt"
	"hash/maphash"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
)

// toValue converts a Go value to the OPA value its JSON encoding would give, without the JSON in
// between: on a 10,000-bucket snapshot, marshalling, unmarshalling into map[string]any and
// converting again allocated 400 MB and cost half a second before any check ran. It follows
// encoding/json's rules for the types snapshots use (json tags with omitempty, pointers, slices,
// string-keyed maps, time.Time); TestToValueMatchesJSON holds it to that.
//
// Terms are shared wherever the value repeats: one key term per struct field, OPA's interned
// booleans, null and small numbers, one term per distinct string and one per distinct object or
// array. The input is read-only to evaluation, so sharing is safe, and it is most of the memory an
// input takes: the buckets of a large account repeat the same field names, the same KMS key ARN,
// "Enabled", and whole configurations (Block Public Access, encryption, Object Lock, lifecycle
// rules), because they are made from the same template. Sharing also lets the policies' helpers
// that take a configuration rather than a bucket be evaluated once per distinct configuration:
// OPA caches function results by argument, and equal arguments are then the same term.
func toValue(v reflect.Value) (ast.Value, error) {
	t, err := newConverter().term(v)
	if err != nil {
		return nil, err
	}
	return t.Value, nil
}

// converter converts values on one goroutine, remembering what it has built to share it.
type converter struct {
	strings map[string]*ast.Term
	// composites finds an object or array already built from the same parts: since parts are
	// shared, equal values have identical part terms, so a composite is looked up by the pointers
	// of its parts before anything is allocated for it.
	composites map[uint64][]composite
}

type composite struct {
	typ   reflect.Type
	parts []*ast.Term
	term  *ast.Term
}

var compositeSeed = maphash.MakeSeed()

func newConverter() *converter {
	return &converter{strings: map[string]*ast.Term{}, composites: map[uint64][]composite{}}
}

// composite returns the term built from parts of a value of type typ, building it with build the
// first time. It keeps parts, which callers allocate for the call.
func (c *converter) composite(typ reflect.Type, parts []*ast.Term, build func(parts []*ast.Term) *ast.Term) *ast.Term {
	h := maphash.Comparable(compositeSeed, typ)
	for _, p := range parts {
		h = h*1099511628211 ^ maphash.Comparable(compositeSeed, p)
	}
	for _, e := range c.composites[h] {
		if e.typ == typ && slices.Equal(e.parts, parts) {
			return e.term
		}
	}
	t := build(parts)
	c.composites[h] = append(c.composites[h], composite{typ: typ, parts: parts, term: t})
	return t
}

// str is the shared term of string s. Long strings (policy texts) rarely repeat and are not kept.
func (c *converter) str(s string) *ast.Term {
	if len(s) > 256 {
		return ast.StringTerm(s)
	}
	if t, ok := c.strings[s]; ok {
		return t
	}
	t := ast.InternedTerm(s)
	c.strings[s] = t
	return t
}

func (c *converter) term(v reflect.Value) (*ast.Term, error) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return ast.InternedNullTerm, nil
		}
		return c.term(v.Elem())
	case reflect.Struct:
		if t, ok := v.Interface().(time.Time); ok {
			return c.str(t.Format(time.RFC3339Nano)), nil
		}
		return c.structTerm(v)
	case reflect.Slice:
		if v.IsNil() {
			return ast.InternedNullTerm, nil
		}
		terms := make([]*ast.Term, v.Len())
		if err := c.convertElements(v, terms); err != nil {
			return nil, err
		}
		return c.composite(v.Type(), terms, func(parts []*ast.Term) *ast.Term { return ast.ArrayTerm(parts...) }), nil
	case reflect.Map:
		if v.IsNil() {
			return ast.InternedNullTerm, nil
		}
		if v.Type().Key().Kind() != reflect.String {
			return nil, fmt.Errorf("map key %s is not a string", v.Type().Key())
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		parts := make([]*ast.Term, 0, 2*len(keys))
		for _, k := range keys {
			x, err := c.term(v.MapIndex(k))
			if err != nil {
				return nil, err
			}
			parts = append(parts, c.str(k.String()), x)
		}
		return c.composite(v.Type(), parts, func(parts []*ast.Term) *ast.Term {
			obj := ast.NewObjectWithCapacity(len(parts) / 2)
			for i := 0; i < len(parts); i += 2 {
				obj.Insert(parts[i], parts[i+1])
			}
			return ast.NewTerm(obj)
		}), nil
	case reflect.String:
		return c.str(v.String()), nil
	case reflect.Bool:
		return ast.InternedTerm(v.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return ast.InternedTerm(v.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return ast.NewTerm(ast.Number(strconv.FormatUint(v.Uint(), 10))), nil
	case reflect.Float32, reflect.Float64:
		x, err := ast.InterfaceToValue(v.Float())
		if err != nil {
			return nil, err
		}
		return ast.NewTerm(x), nil
	}
	return nil, fmt.Errorf("cannot convert %s", v.Type())
}

// parallelFrom is the slice length from which elements are converted on every core (the buckets
// of a large account are most of the snapshot).
const parallelFrom = 1024

func (c *converter) convertElements(v reflect.Value, terms []*ast.Term) error {
	workers := runtime.GOMAXPROCS(0)
	if len(terms) < parallelFrom || workers < 2 {
		return c.convertRange(v, terms, 0, len(terms))
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*len(terms)/workers, (w+1)*len(terms)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each worker shares values within its part; a converter shared between workers would
			// need a lock.
			errs[w] = newConverter().convertRange(v, terms, lo, hi)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (c *converter) convertRange(v reflect.Value, terms []*ast.Term, lo, hi int) error {
	for i := lo; i < hi; i++ {
		x, err := c.term(v.Index(i))
		if err != nil {
			return err
		}
		terms[i] = x
	}
	return nil
}

type fieldInfo struct {
	index     int
	key       *ast.Term // shared by every object of the type
	omitEmpty bool
}

var structFields sync.Map // reflect.Type → []fieldInfo

func fieldsOf(t reflect.Type) []fieldInfo {
	if cached, ok := structFields.Load(t); ok {
		return cached.([]fieldInfo)
	}
	var fields []fieldInfo
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		fields = append(fields, fieldInfo{index: i, key: ast.StringTerm(name), omitEmpty: strings.Contains(","+opts+",", ",omitempty,")})
	}
	structFields.Store(t, fields)
	return fields
}

// structTerm converts a struct: its field values are its parts, nil for an omitted empty field.
func (c *converter) structTerm(v reflect.Value) (*ast.Term, error) {
	fields := fieldsOf(v.Type())
	parts := make([]*ast.Term, len(fields))
	for i, f := range fields {
		fv := v.Field(f.index)
		if f.omitEmpty && isEmptyValue(fv) {
			continue
		}
		x, err := c.term(fv)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.key.Value.(ast.String), err)
		}
		parts[i] = x
	}
	return c.composite(v.Type(), parts, func(parts []*ast.Term) *ast.Term {
		obj := ast.NewObjectWithCapacity(len(fields))
		for i, x := range parts {
			if x != nil {
				obj.Insert(fields[i].key, x)
			}
		}
		return ast.NewTerm(obj)
	}), nil
}

// isEmptyValue is encoding/json's definition of empty for omitempty.
func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}
