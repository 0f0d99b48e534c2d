package auth

import (
	"net/http"
	"os"
)

func RequireAPIKey(next http.Handler) http.Handler {
	expected := os.Getenv("SERVICE_API_KEY")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-API-Key") != expected {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}
