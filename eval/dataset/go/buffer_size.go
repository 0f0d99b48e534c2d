package imaging

import "errors"

// BufferSize returns the number of bytes needed for an RGBA image of the given size.
func BufferSize(width, height int32) (int32, error) {
	if width <= 0 || height <= 0 {
		return 0, errors.New("image dimensions must be positive")
	}
	return width * height * 4, nil
}
