package export

import "fmt"

// ToCSV renders rows as CSV for the spreadsheet download (reports reach 100k rows).
func ToCSV(rows [][]string) string {
	out := ""
	for _, row := range rows {
		line := ""
		for i, cell := range row {
			if i > 0 {
				line += ","
			}
			line += fmt.Sprintf("%q", cell)
		}
		out += line + "\n"
	}
	return out
}
