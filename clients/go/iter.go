package verk

// Iter walks every item of a list, page after page by cursor, fetching the next page only
// when the loop reaches it:
//
//	it := client.Tasks.ListAll(&verk.TaskListOptions{Status: "done"})
//	for it.Next() {
//		task := it.Value()
//	}
//	if err := it.Err(); err != nil { ... }
type Iter[T any] struct {
	fetch  func(cursor string) ([]T, *string, error)
	buf    []T
	i      int
	cursor string
	done   bool
	err    error
	cur    T
}

func newIter[T any](fetch func(cursor string) ([]T, *string, error)) *Iter[T] {
	return &Iter[T]{fetch: fetch}
}

// Next advances to the next item; false at the end or on an error (see Err).
func (it *Iter[T]) Next() bool {
	for {
		if it.i < len(it.buf) {
			it.cur = it.buf[it.i]
			it.i++
			return true
		}
		if it.done || it.err != nil {
			return false
		}
		data, next, err := it.fetch(it.cursor)
		if err != nil {
			it.err = err
			return false
		}
		it.buf, it.i = data, 0
		if next == nil || *next == "" {
			it.done = true
		} else {
			it.cursor = *next
		}
	}
}

// Value is the current item.
func (it *Iter[T]) Value() T { return it.cur }

// Err is the error that ended the walk, if any.
func (it *Iter[T]) Err() error { return it.err }

// ForEach calls fn with every item; it stops at fn's first error, or the API's, and returns it.
func (it *Iter[T]) ForEach(fn func(T) error) error {
	for it.Next() {
		if err := fn(it.Value()); err != nil {
			return err
		}
	}
	return it.Err()
}

// All collects every item (for lists you know are small).
func (it *Iter[T]) All() ([]T, error) {
	var out []T
	err := it.ForEach(func(v T) error {
		out = append(out, v)
		return nil
	})
	return out, err
}
