// Package gostack is the repository of evalfleet's SWE-bench Multilingual-style demo instance.
package gostack

// Stack is a last-in, first-out stack of ints.
type Stack struct{ items []int }

// Push adds v on top.
func (s *Stack) Push(v int) { s.items = append(s.items, v) }

// Pop removes and returns the top value; ok is false when the stack is empty.
func (s *Stack) Pop() (v int, ok bool) {
	v = s.items[len(s.items)-1]
	s.items = s.items[:len(s.items)-1]
	return v, true
}
