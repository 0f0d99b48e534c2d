package work

import (
	"context"
	"sync"
)

// Map calls fn on every item with at most workers goroutines and keeps the input order.
func Map[T, R any](ctx context.Context, items []T, workers int, fn func(context.Context, T) R) []R {
	if workers < 1 {
		workers = 1
	}
	results := make([]R, len(items))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				results[i] = fn(ctx, items[i])
			}
		}()
	}
	for i := range items {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return results
}
