// yamlv3 prints, as JSON, what Go's gopkg.in/yaml.v3 — the reader Pulumi loads stack files
// with — decodes a YAML file into (a map[string]interface{}, as Pulumi's config values are
// decoded into interface{}). Values JSON cannot hold are written as one-key objects:
// {"$timestamp": "<RFC 3339>"} for a time.Time, {"$float": "+Inf" | "-Inf" | "NaN"}.
// Used by the CLI's tests to check that the CLI reads its stack files as Pulumi does.
//
//	yamlv3 <file.yaml>
package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"time"

	"gopkg.in/yaml.v3"
)

func convert(v interface{}) interface{} {
	switch v := v.(type) {
	case map[string]interface{}:
		out := make(map[string]interface{}, len(v))
		for k, x := range v {
			out[k] = convert(x)
		}
		return out
	case map[interface{}]interface{}:
		out := make(map[string]interface{}, len(v))
		for k, x := range v {
			out[fmt.Sprintf("%v", k)] = convert(x)
		}
		return out
	case []interface{}:
		out := make([]interface{}, len(v))
		for i, x := range v {
			out[i] = convert(x)
		}
		return out
	case time.Time:
		return map[string]string{"$timestamp": v.Format(time.RFC3339Nano)}
	case float64:
		switch {
		case math.IsNaN(v):
			return map[string]string{"$float": "NaN"}
		case math.IsInf(v, 1):
			return map[string]string{"$float": "+Inf"}
		case math.IsInf(v, -1):
			return map[string]string{"$float": "-Inf"}
		}
		return v
	default:
		return v
	}
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: yamlv3 <file.yaml>")
		os.Exit(2)
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var doc map[string]interface{}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, err := json.Marshal(convert(doc))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}
