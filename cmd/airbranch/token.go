package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/directory"
	"github.com/airbranch/airbranch/configs"
	"github.com/airbranch/airbranch/gateway"
	"github.com/airbranch/airbranch/gateway/auth"
)

// token prints an HS256 bearer token signed with AIRBRANCH_JWT_SECRET (or
// the development secret, with a warning). The claims must be ones the API
// accepts: for role rm the subject must be an RM of the directory and the
// team claim is that RM's team (a -team that differs is an error); for a
// supervisor, -team (optional) must name a team of the directory. -ttl
// (default auth.token_ttl) must lie within configs.MinTokenTTL to
// configs.MaxTokenTTL, the bounds of auth.token_ttl. Bad input exits 2.
func token(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	path := fs.String("config", "", "configuration `FILE` (for the directory and token lifetime)")
	role := fs.String("role", "", "role claim: rm, supervisor or admin")
	subject := fs.String("subject", "", "subject claim: the RM or user id, e.g. rm-pb-01")
	team := fs.String("team", "", "team claim (rm: the RM's team in the directory, the default; supervisor: a team of the directory, or none for every team)")
	ttl := fs.Duration("ttl", 0, fmt.Sprintf("token lifetime from %s to %s, e.g. 8h (default: auth.token_ttl)", configs.MinTokenTTL, configs.MaxTokenTTL))
	if !parse(fs, args, stderr) {
		return 2
	}
	if *subject == "" || *role == "" {
		fmt.Fprintln(stderr, "airbranch token: -role and -subject are required")
		return 2
	}
	ttlGiven := false
	fs.Visit(func(f *flag.Flag) { ttlGiven = ttlGiven || f.Name == "ttl" })
	if ttlGiven && (*ttl < configs.MinTokenTTL || *ttl > configs.MaxTokenTTL) {
		fmt.Fprintf(stderr, "airbranch token: -ttl %s is out of range (allowed: %s to %s, the bounds of auth.token_ttl)\n", *ttl, configs.MinTokenTTL, configs.MaxTokenTTL)
		return 2
	}
	cfg, err := configs.Load(*path, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "airbranch: configuration:\n%v\n", err)
		return 2
	}
	p := auth.Principal{Subject: *subject, Role: auth.Role(*role), Team: conversation.TeamID(*team)}
	if p.Role == auth.RoleRM || (p.Role == auth.RoleSupervisor && p.Team != "") {
		dir, err := configs.LoadDirectory(cfg)
		if err != nil {
			fmt.Fprintf(stderr, "airbranch token: directory: %v\n", err)
			return 2
		}
		if p.Team, err = teamClaim(context.Background(), dir, p); err != nil {
			fmt.Fprintf(stderr, "airbranch token: %v\n", err)
			return 2
		}
	}
	secret := []byte(cfg.Secrets.JWTSecret)
	if len(secret) == 0 {
		fmt.Fprintln(stderr, "airbranch token: warning: AIRBRANCH_JWT_SECRET is not set; signing with the public development secret")
		secret = []byte(gateway.DevJWTSecret)
	}
	if !ttlGiven {
		*ttl = cfg.Auth.TokenTTL
	}
	var opts []auth.IssueOption
	if cfg.Auth.Issuer != "" {
		opts = append(opts, auth.WithIssuer(cfg.Auth.Issuer))
	}
	if cfg.Auth.Audience != "" {
		opts = append(opts, auth.WithAudience(cfg.Auth.Audience))
	}
	tok, err := auth.Issue(secret, p, *ttl, time.Now(), opts...)
	if err != nil {
		fmt.Fprintf(stderr, "airbranch token: %v\n", err)
		return 2
	}
	fmt.Fprintln(stdout, tok)
	return 0
}

// teamClaim returns the team claim for p as the API will check it against
// dir: for role rm the RM's team (p.Team, when set, must equal it); for a
// supervisor p.Team, which must be a team of dir.
func teamClaim(ctx context.Context, dir directory.Directory, p auth.Principal) (conversation.TeamID, error) {
	if p.Role == auth.RoleRM {
		rm, err := dir.RM(ctx, p.RMID())
		if errors.Is(err, conversation.ErrNotFound) {
			return "", fmt.Errorf("rm %q is not in the directory; a token for role rm needs an RM id from the directory (with or without -team)", p.Subject)
		}
		if err != nil {
			return "", fmt.Errorf("directory: %w", err)
		}
		if p.Team != "" && p.Team != rm.TeamID {
			return "", fmt.Errorf("-team %s does not match the team of rm %s in the directory (%s); omit -team or give -team %s", p.Team, p.Subject, rm.TeamID, rm.TeamID)
		}
		return rm.TeamID, nil
	}
	_, err := dir.Team(ctx, p.Team)
	if errors.Is(err, conversation.ErrNotFound) {
		teams, lerr := dir.Teams(ctx)
		if lerr != nil {
			return "", fmt.Errorf("directory: %w", lerr)
		}
		ids := make([]string, len(teams))
		for i, t := range teams {
			ids[i] = string(t.ID)
		}
		return "", fmt.Errorf("-team %q is not a team of the directory (allowed: %s; or no -team for a supervisor of every team)", p.Team, strings.Join(ids, ", "))
	}
	if err != nil {
		return "", fmt.Errorf("directory: %w", err)
	}
	return p.Team, nil
}
