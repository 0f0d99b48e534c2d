package users

import (
	"database/sql"
	"fmt"
)

type User struct {
	ID    int64
	Name  string
	Email string
}

func FindByEmail(db *sql.DB, email string) (*User, error) {
	query := fmt.Sprintf("SELECT id, name, email FROM users WHERE email = '%s'", email)
	row := db.QueryRow(query)
	var u User
	if err := row.Scan(&u.ID, &u.Name, &u.Email); err != nil {
		return nil, err
	}
	return &u, nil
}
