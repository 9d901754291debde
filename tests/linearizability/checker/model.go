package main

import (
	"fmt"

	"github.com/anishathalye/porcupine"
)

// Input is one client request against a key, as the load recorded it.
type Input struct {
	Op    string `json:"op"`    // "get", "put" or "delete"
	Key   string `json:"key"`   // the partition
	Value string `json:"value"` // put: the value written (unique per request)
	// Precondition of a put or delete: "" (none), "match" (If-Match with
	// Version), "absent" (If-None-Match: *).
	Precondition string `json:"precondition"`
	Version      int64  `json:"version"` // If-Match version
}

// Output is what the client got back. Unknown marks a request whose outcome
// the client cannot know (a 5xx, a timeout, a reset): it may have been
// applied, once, at any point after its call, or not at all.
type Output struct {
	Unknown bool   `json:"unknown"`
	Status  int    `json:"status"`
	Value   string `json:"value"`   // get 200
	Version int64  `json:"version"` // get 200 and put 200/201 (the ETag)
}

// register is the state of one key: a versioned register. Version 0 while
// it exists means "not known yet": an unknown write put a value whose
// version nobody saw; the next read pins it.
type register struct {
	exists  bool
	value   string
	version int64
}

// matches says whether If-Match on version can hold (first) and whether it
// can fail (second) in state s.
func matches(s register, version int64) (bool, bool) {
	if !s.exists {
		return false, true
	}
	if s.version == 0 {
		return true, true
	}
	return s.version == version, s.version != version
}

// step lists the states the key can be in after in answered out, from s;
// none when the answer is impossible from s.
func step(s register, in Input, out Output) []register {
	switch in.Op {
	case "get":
		if out.Unknown {
			return []register{s}
		}
		switch out.Status {
		case 404:
			if !s.exists {
				return []register{s}
			}
		case 200:
			if s.exists && s.value == out.Value && (s.version == 0 || s.version == out.Version) {
				return []register{{exists: true, value: s.value, version: out.Version}}
			}
		}
		return nil
	case "put":
		var can, cannot bool // the precondition can hold / can fail
		switch in.Precondition {
		case "":
			can, cannot = true, false
		case "absent":
			can, cannot = !s.exists, s.exists
		case "match":
			can, cannot = matches(s, in.Version)
		}
		if out.Unknown {
			// Not applied at all is the same, to every observer, as applied
			// after everything else: the checker may choose either.
			next := []register{s}
			if can {
				next = append(next, register{exists: true, value: in.Value})
			}
			return next
		}
		switch out.Status {
		case 200, 201:
			created := out.Status == 201
			if can && created == !s.exists && out.Version > 0 {
				return []register{{exists: true, value: in.Value, version: out.Version}}
			}
		case 412:
			if cannot {
				return []register{s}
			}
		}
		return nil
	case "delete":
		can, cannot := s.exists, false
		if in.Precondition == "match" && s.exists {
			can, cannot = matches(s, in.Version)
		}
		if out.Unknown {
			next := []register{s}
			if can {
				next = append(next, register{})
			}
			return next
		}
		switch out.Status {
		case 204:
			if can {
				return []register{{}}
			}
		case 404:
			if !s.exists {
				return []register{s}
			}
		case 412:
			if s.exists && cannot {
				return []register{s}
			}
		}
		return nil
	}
	return nil
}

// kvModel is the specification every key must follow, checked per key.
var kvModel = (&porcupine.NondeterministicModel{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range history {
			key := op.Input.(Input).Key
			if _, seen := byKey[key]; !seen {
				keys = append(keys, key)
			}
			byKey[key] = append(byKey[key], op)
		}
		partitions := make([][]porcupine.Operation, 0, len(keys))
		for _, key := range keys {
			partitions = append(partitions, byKey[key])
		}
		return partitions
	},
	Init: func() []interface{} { return []interface{}{register{}} },
	Step: func(state, input, output interface{}) []interface{} {
		next := step(state.(register), input.(Input), output.(Output))
		states := make([]interface{}, len(next))
		for i, s := range next {
			states[i] = s
		}
		return states
	},
	DescribeOperation: func(input, output interface{}) string {
		return describe(input.(Input), output.(Output))
	},
	DescribeState: func(state interface{}) string {
		s := state.(register)
		if !s.exists {
			return "absent"
		}
		if s.version == 0 {
			return fmt.Sprintf("%s @ ?", s.value)
		}
		return fmt.Sprintf("%s @ %d", s.value, s.version)
	},
}).ToModel()

func describe(in Input, out Output) string {
	call := in.Op + "(" + in.Key
	if in.Op == "put" {
		call += " = " + in.Value
	}
	switch in.Precondition {
	case "match":
		call += fmt.Sprintf(", If-Match %d", in.Version)
	case "absent":
		call += ", If-None-Match *"
	}
	call += ")"
	switch {
	case out.Unknown:
		return call + " -> unknown"
	case out.Status == 200 && in.Op == "get":
		return fmt.Sprintf("%s -> 200 %s @ %d", call, out.Value, out.Version)
	case out.Version > 0:
		return fmt.Sprintf("%s -> %d @ %d", call, out.Status, out.Version)
	default:
		return fmt.Sprintf("%s -> %d", call, out.Status)
	}
}
