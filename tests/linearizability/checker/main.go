// Command checker decides whether a history of key-value requests recorded
// against Flotilla is linearizable, with porcupine (the checker etcd's
// robustness tests use) and the versioned-register model in model.go.
//
//	checker -history history.json [-html out.html] [-timeout 60s]
//
// It prints one JSON line: {"result": "ok"|"illegal"|"unknown", ...}. When
// the history is illegal it names, per key that fails, the longest prefix
// porcupine could linearize and the first request that cannot follow it, and
// writes porcupine's visualization to -html. Exit status: 0 ok, 1 illegal,
// 2 unknown (timed out), 3 bad input.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"sort"
	"time"

	"github.com/anishathalye/porcupine"
)

// Recorded is one request as the TypeScript side writes it. Times are
// nanoseconds on one monotonic clock; Return is null when the outcome is
// unknown (the request may take effect at any later time).
type Recorded struct {
	Client int    `json:"client"`
	Call   int64  `json:"call"`
	Return *int64 `json:"return"`
	Input  Input  `json:"input"`
	Output Output `json:"output"`
}

type report struct {
	Result     string   `json:"result"`
	Operations int      `json:"operations"`
	Unknown    int      `json:"unknown"`
	Keys       int      `json:"keys"`
	Violations []string `json:"violations,omitempty"`
	HTML       string   `json:"html,omitempty"`
}

func main() {
	historyPath := flag.String("history", "", "JSON array of recorded requests")
	htmlPath := flag.String("html", "", "write porcupine's visualization here when the history is not linearizable")
	timeout := flag.Duration("timeout", 60*time.Second, "give up (result unknown) after this long")
	flag.Parse()
	history, unknown, err := load(*historyPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "checker:", err)
		os.Exit(3)
	}
	result, info := porcupine.CheckOperationsVerbose(kvModel, history, *timeout)
	out := report{Operations: len(history), Unknown: unknown, Keys: len(kvModel.Partition(history))}
	code := 0
	switch result {
	case porcupine.Ok:
		out.Result = "ok"
	case porcupine.Illegal:
		out.Result, code = "illegal", 1
		out.Violations = violations(kvModel.Partition(history), info)
		if *htmlPath != "" {
			if err := porcupine.VisualizePath(kvModel, info, *htmlPath); err == nil {
				out.HTML = *htmlPath
			}
		}
	default:
		out.Result, code = "unknown", 2
	}
	line, _ := json.Marshal(out)
	fmt.Println(string(line))
	os.Exit(code)
}

func load(path string) ([]porcupine.Operation, int, error) {
	if path == "" {
		return nil, 0, fmt.Errorf("-history is required")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	var recorded []Recorded
	if err := json.Unmarshal(data, &recorded); err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	history := make([]porcupine.Operation, 0, len(recorded))
	unknown := 0
	for i, r := range recorded {
		ret := int64(math.MaxInt64)
		if r.Return != nil {
			if *r.Return < r.Call {
				return nil, 0, fmt.Errorf("request %d returns before its call", i)
			}
			ret = *r.Return
		} else {
			r.Output.Unknown = true
		}
		if r.Output.Unknown {
			unknown++
		}
		history = append(history, porcupine.Operation{ClientId: r.Client, Input: r.Input, Call: r.Call, Output: r.Output, Return: ret})
	}
	return history, unknown, nil
}

// violations describes, for each key whose history cannot be linearized,
// the first request (by call time) left out of the longest linearization
// porcupine found, and the requests that linearization ends with.
func violations(partitions [][]porcupine.Operation, info porcupine.LinearizationInfo) []string {
	var found []string
	for p, partials := range info.PartialLinearizations() {
		ops := partitions[p]
		longest := []int{}
		for _, partial := range partials {
			if len(partial) > len(longest) {
				longest = partial
			}
		}
		if len(longest) == len(ops) {
			continue
		}
		in := make(map[int]bool, len(longest))
		for _, id := range longest {
			in[id] = true
		}
		left := []int{}
		for id := range ops {
			if !in[id] {
				left = append(left, id)
			}
		}
		sort.Slice(left, func(a, b int) bool { return ops[left[a]].Call < ops[left[b]].Call })
		first := ops[left[0]]
		text := fmt.Sprintf("key %s: %d of %d requests linearize; the first that cannot follow: client %d %s",
			first.Input.(Input).Key, len(longest), len(ops), first.ClientId, describe(first.Input.(Input), first.Output.(Output)))
		tail := longest
		if len(tail) > 4 {
			tail = tail[len(tail)-4:]
		}
		for _, id := range tail {
			op := ops[id]
			text += fmt.Sprintf("; after client %d %s", op.ClientId, describe(op.Input.(Input), op.Output.(Output)))
		}
		found = append(found, text)
	}
	return found
}
