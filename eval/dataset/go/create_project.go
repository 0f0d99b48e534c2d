package api

import (
	"context"
	"encoding/json"
	"net/http"
)

type ProjectStore interface {
	Create(ctx context.Context, name string) (string, error)
}

type createRequest struct {
	Name string `json:"name"`
}

const maxBody = 1 << 20

func CreateProject(store ProjectStore) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req createRequest
		decoder := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
		decoder.DisallowUnknownFields()
		if err := decoder.Decode(&req); err != nil || req.Name == "" {
			http.Error(w, "invalid request", http.StatusBadRequest)
			return
		}
		id, err := store.Create(r.Context(), req.Name)
		if err != nil {
			http.Error(w, "could not create project", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]string{"id": id})
	}
}
