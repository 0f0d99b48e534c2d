package importer

import (
	"bufio"
	"os"
)

// CountLines counts the lines of every file in paths (an import batch has thousands).
func CountLines(paths []string) (int, error) {
	total := 0
	for _, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		scanner := bufio.NewScanner(f)
		for scanner.Scan() {
			total++
		}
		if err := scanner.Err(); err != nil {
			return 0, err
		}
	}
	return total, nil
}
