package checks

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime"
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
func toValue(v reflect.Value) (ast.Value, error) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return ast.NullValue, nil
		}
		return toValue(v.Elem())
	case reflect.Struct:
		if t, ok := v.Interface().(time.Time); ok {
			return ast.String(t.Format(time.RFC3339Nano)), nil
		}
		return structValue(v)
	case reflect.Slice:
		if v.IsNil() {
			return ast.NullValue, nil
		}
		terms := make([]*ast.Term, v.Len())
		if err := convertElements(v, terms); err != nil {
			return nil, err
		}
		return ast.NewArray(terms...), nil
	case reflect.Map:
		if v.IsNil() {
			return ast.NullValue, nil
		}
		if v.Type().Key().Kind() != reflect.String {
			return nil, fmt.Errorf("map key %s is not a string", v.Type().Key())
		}
		obj := ast.NewObjectWithCapacity(v.Len())
		iter := v.MapRange()
		for iter.Next() {
			x, err := toValue(iter.Value())
			if err != nil {
				return nil, err
			}
			obj.Insert(ast.StringTerm(iter.Key().String()), ast.NewTerm(x))
		}
		return obj, nil
	case reflect.String:
		return ast.String(v.String()), nil
	case reflect.Bool:
		return ast.Boolean(v.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return ast.Number(json.Number(fmt.Sprint(v.Int()))), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return ast.Number(json.Number(fmt.Sprint(v.Uint()))), nil
	case reflect.Float32, reflect.Float64:
		return ast.InterfaceToValue(v.Float())
	}
	return nil, fmt.Errorf("cannot convert %s", v.Type())
}

// parallelFrom is the slice length from which elements are converted on every core (the buckets
// of a large account are most of the snapshot).
const parallelFrom = 1024

func convertElements(v reflect.Value, terms []*ast.Term) error {
	workers := runtime.GOMAXPROCS(0)
	if len(terms) < parallelFrom || workers < 2 {
		return convertRange(v, terms, 0, len(terms))
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*len(terms)/workers, (w+1)*len(terms)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = convertRange(v, terms, lo, hi)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func convertRange(v reflect.Value, terms []*ast.Term, lo, hi int) error {
	for i := lo; i < hi; i++ {
		x, err := toValue(v.Index(i))
		if err != nil {
			return err
		}
		terms[i] = ast.NewTerm(x)
	}
	return nil
}

type fieldInfo struct {
	index     int
	name      string
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
		fields = append(fields, fieldInfo{index: i, name: name, omitEmpty: strings.Contains(","+opts+",", ",omitempty,")})
	}
	structFields.Store(t, fields)
	return fields
}

func structValue(v reflect.Value) (ast.Value, error) {
	fields := fieldsOf(v.Type())
	obj := ast.NewObjectWithCapacity(len(fields))
	for _, f := range fields {
		fv := v.Field(f.index)
		if f.omitEmpty && isEmptyValue(fv) {
			continue
		}
		x, err := toValue(fv)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		obj.Insert(ast.StringTerm(f.name), ast.NewTerm(x))
	}
	return obj, nil
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
