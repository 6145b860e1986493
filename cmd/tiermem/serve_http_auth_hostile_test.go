package main

import (
	"context"
	"net/http"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestHostileConfigSetRequirepassGuardsHTTP: README says everything
// on HTTP but the health checks "needs the RESP password", and CONFIG SET
// changes requirepass at run time. An operator who rotates a leaked
// password, or sets one on a server started without, with CONFIG SET
// requirepass expects the HTTP API to follow: the old password (or none)
// must stop working there too.
func TestHostileConfigSetRequirepassGuardsHTTP(t *testing.T) {
	ctx := context.Background()
	t.Run("rotated", func(t *testing.T) {
		addr, httpAddr := serveInProcess(t, "--requirepass", "old")
		rdb := redis.NewClient(&redis.Options{Addr: addr, Password: "old"})
		defer rdb.Close()
		if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
		if err := rdb.ConfigSet(ctx, "requirepass", "new").Err(); err != nil {
			t.Fatal(err)
		}
		if err := redis.NewClient(&redis.Options{Addr: addr, Password: "old"}).Get(ctx, "k").Err(); err == nil {
			t.Fatalf("RESP still takes the old password")
		}
		if got := httpStatus(t, httpAddr, "/v1/keys/k", "Bearer old"); got != http.StatusUnauthorized {
			t.Errorf("HTTP GET with the rotated-out password: %d, want 401", got)
		}
		if got := httpStatus(t, httpAddr, "/v1/keys/k", "Bearer new"); got != http.StatusOK {
			t.Errorf("HTTP GET with the password CONFIG SET gave: %d, want 200", got)
		}
	})
	t.Run("set at run time", func(t *testing.T) {
		addr, httpAddr := serveInProcess(t)
		rdb := redis.NewClient(&redis.Options{Addr: addr})
		defer rdb.Close()
		if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
		if err := rdb.ConfigSet(ctx, "requirepass", "secret").Err(); err != nil {
			t.Fatal(err)
		}
		if got := httpStatus(t, httpAddr, "/v1/keys/k", ""); got != http.StatusUnauthorized {
			t.Errorf("HTTP GET without a password after CONFIG SET requirepass: %d, want 401", got)
		}
		if got := httpStatus(t, httpAddr, "/v1/keys/k", "Bearer secret"); got != http.StatusOK {
			t.Errorf("HTTP GET with the password CONFIG SET gave: %d, want 200", got)
		}
	})
}
