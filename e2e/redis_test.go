package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisServer is a redis-server of the suite's own on a free loopback
// port, append-only with fsync on every write: a restart keeps every
// write Redis answered, as a production Redis with AOF would.
type redisServer struct {
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
}

// startRedis starts redis-server (the binary bin) with its files in dir.
func startRedis(bin, dir string) (*redisServer, error) {
	port, err := freeTCPPort()
	if err != nil {
		return nil, err
	}
	r := &redisServer{bin: bin, dir: dir, port: port}
	return r, r.start()
}

// URL is the redis:// URL of database 0.
func (r *redisServer) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

func (r *redisServer) start() error {
	log, err := os.OpenFile(filepath.Join(r.dir, "redis.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	r.cmd = exec.Command(r.bin, "--bind", "127.0.0.1", "--port", strconv.Itoa(r.port), "--dir", r.dir,
		"--save", "", "--appendonly", "yes", "--appendfsync", "always", "--protected-mode", "no")
	r.cmd.Stdout, r.cmd.Stderr = log, log
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		return err
	}
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", r.port)})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server on port %d: %w", r.port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop ends redis-server with SIGTERM (it syncs the append-only file)
// and waits for it.
func (r *redisServer) Stop() error {
	if r.cmd == nil || r.cmd.Process == nil {
		return nil
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	err := r.cmd.Wait()
	r.cmd = nil
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() <= 0 {
		return nil
	}
	return err
}

// Restart stops redis-server and starts it again on the same port and
// files.
func (r *redisServer) Restart(down time.Duration) error {
	if err := r.Stop(); err != nil {
		return err
	}
	time.Sleep(down)
	return r.start()
}

// Client is a client of the server; close it when done.
func (r *redisServer) Client() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", r.port)})
}
