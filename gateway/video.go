package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/directory"
	"github.com/airbranch/airbranch/channels/video"
	"github.com/airbranch/airbranch/channels/webchat"
	"github.com/airbranch/airbranch/configs"
	"github.com/airbranch/airbranch/gateway/api"
	"github.com/airbranch/airbranch/gateway/desk"
	"github.com/airbranch/airbranch/gateway/router"
	"github.com/airbranch/airbranch/gateway/state"
	"github.com/airbranch/airbranch/gateway/videopage"
	"github.com/airbranch/airbranch/media/sfu"
)

// DevVideoSecret signs video join tokens in the embedded demo only, as
// DevJWTSecret does RMs' tokens.
const DevVideoSecret = "airbranch-development-video-secret-not-for-production"

// videoEventQueue bounds the room events waiting to be stored and told
// to the desks; beyond it they are dropped (and logged).
const videoEventQueue = 1024

// Paths of the video channel beside channels/video's own.
const (
	// VideoRequestPath is where a web chat client asks for video.
	VideoRequestPath = "POST /video/requests"
)

// videoChannel wires the video channel into the gateway: one room per
// video conversation (the room id is the conversation id), opened when an
// RM accepts a video conversation, escalates one to video, or schedules a
// session; the rooms' chat and people reach the conversation's timeline
// and the RMs' desks.
type videoChannel struct {
	cfg     configs.VideoConfig
	sfu     *sfu.SFU
	srv     *video.Server
	tokens  *video.Tokens
	invites video.Invitations
	store   state.Store
	hub     *desk.Hub
	chat    *webchat.Adapter
	router  *router.Router
	// customers and dir find the customer and the RMs of a scheduled
	// session.
	customers desk.CustomerSource
	dir       directory.Directory
	log       *slog.Logger
	// base is the external URL the join links start with ("" : relative).
	base   string
	events chan video.Event
	// scheduled are the scheduled sessions nobody has joined yet
	// (video_expiry.go).
	scheduled scheduledSessions
	// live records the rooms this instance holds, so that the others
	// end their conversations should it die (instance_lease.go).
	live *liveness
}

// newVideo builds the video channel when cfg turns it on (nil, nil
// otherwise): the SFU (binding its UDP port: failing fast when it is
// taken), the join tokens, invitations in memory, and the signalling
// server with the store as the rooms' chat sink.
func newVideo(cfg *configs.Config, store state.Store, hub *desk.Hub, chat *webchat.Adapter, customers desk.CustomerSource, dir directory.Directory, log *slog.Logger) (*videoChannel, error) {
	if !cfg.VideoEnabled() {
		return nil, nil
	}
	secret := []byte(cfg.Secrets.VideoTokenSecret)
	if len(secret) == 0 && cfg.Demo() {
		log.Warn("DEMO MODE: video is on with the public development token secret; set video.enabled and AIRBRANCH_VIDEO_TOKEN_SECRET outside demos")
		secret = []byte(DevVideoSecret)
	}
	tokens, err := video.NewTokens(secret, 30*time.Second)
	if err != nil {
		return nil, fmt.Errorf("gateway: video: %w", err)
	}
	s, err := sfu.New(cfg.VideoSFU(), log)
	if err != nil {
		return nil, fmt.Errorf("gateway: video: %w", err)
	}
	v := &videoChannel{cfg: cfg.Video, sfu: s, tokens: tokens, invites: video.NewMemoryInvitations(), store: store, hub: hub, chat: chat,
		customers: customers, dir: dir, log: log, base: strings.TrimSuffix(cfg.HTTP.PublicURL, "/"), events: make(chan video.Event, videoEventQueue)}
	var rec video.RecordingOptions
	if cfg.Video.Recording.Enabled {
		rec = video.RecordingOptions{Dir: cfg.Video.Recording.Dir, RequireConsent: cfg.Video.Recording.Consent != configs.VideoConsentNotRequired}
	}
	v.srv, err = video.NewServer(video.Options{Config: cfg.VideoChannel(), SFU: s, Tokens: tokens, Sink: videoSink{store}, Events: v.queueEvent,
		Recording: rec, Logger: log, Now: time.Now})
	if err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("gateway: video: %w", err)
	}
	return v, nil
}

// mount serves /ws/video, the invitation exchange, the client's request
// and the /video/ page on mux.
func (v *videoChannel) mount(mux *http.ServeMux, guard func(http.Handler) http.Handler) {
	mux.Handle(video.WSPath, guard(v.srv))
	mux.Handle(video.InvitationRoute, guard(video.InvitationHandler(v.invites, v.tokens, v.cfg.TokenTTL, v.log, time.Now)))
	mux.Handle(VideoRequestPath, guard(http.HandlerFunc(v.serveRequest)))
	mux.Handle(videopage.Prefix, videopage.Handler())
}

// Run serves the rooms and stores their events until ctx ends; then it
// ends every room and closes the SFU's socket.
func (v *videoChannel) Run(ctx context.Context) error {
	eg, egCtx := errgroup.WithContext(ctx)
	eg.Go(func() error { return v.srv.Run(egCtx) })
	eg.Go(func() error { return v.sweepLoop(egCtx) })
	eg.Go(func() error {
		for {
			select {
			case ev := <-v.events:
				v.record(context.WithoutCancel(egCtx), ev)
			case <-egCtx.Done():
				return nil
			}
		}
	})
	err := eg.Wait()
	for {
		select {
		case ev := <-v.events:
			v.record(context.WithoutCancel(ctx), ev)
			continue
		default:
		}
		break
	}
	if cerr := v.sfu.Close(); err == nil {
		err = cerr
	}
	return err
}

// queueEvent is the server's Events callback: it must not block.
func (v *videoChannel) queueEvent(ev video.Event) {
	select {
	case v.events <- ev:
	default:
		v.log.Error("video event dropped: the queue is full", "type", ev.Type, "conversation_id", ev.ConversationID)
	}
}

// open opens the room of conversation c (nothing when it is open).
func (v *videoChannel) open(c conversation.Conversation) error {
	err := v.srv.CreateRoom(video.RoomSpec{ID: video.RoomID(c.ID), ConversationID: c.ID})
	if errors.Is(err, video.ErrRoomExists) {
		return nil
	}
	return err
}

// link issues a join token for g and the /video/ URL carrying it.
func (v *videoChannel) link(g video.Grant) (*desk.VideoLink, error) {
	tok, exp, err := v.tokens.Issue(g, v.cfg.TokenTTL, time.Now())
	if err != nil {
		return nil, err
	}
	return &desk.VideoLink{Role: string(g.Role), Identity: g.Identity, Token: tok, URL: v.base + videopage.Prefix + "#token=" + tok, ExpiresAt: exp}, nil
}

// invite stores a single-use invitation for g valid until expires, and
// returns its /video/ URL.
func (v *videoChannel) invite(ctx context.Context, g video.Grant, expires time.Time) (*desk.VideoLink, error) {
	code := video.NewInvitationCode()
	if err := v.invites.Put(ctx, video.Invitation{Code: code, Grant: g, ExpiresAt: expires}); err != nil {
		return nil, err
	}
	return &desk.VideoLink{Role: string(g.Role), Identity: g.Identity, Code: code, URL: v.base + videopage.Prefix + "#invite=" + code, ExpiresAt: expires}, nil
}

// changed is told of every routing change (routingObserver): a video
// conversation accepted by an RM, or escalated to video, gets its room
// and the RM a join link on the desk (after an escalation also the
// client's invitation link); a video conversation that ends ends its room.
func (v *videoChannel) changed(ctx context.Context, c conversation.Conversation, evs []conversation.Event) {
	if c.Channel != conversation.ChannelVideo {
		return
	}
	for _, e := range evs {
		switch {
		case e.Type == conversation.EventAccept && e.RMID != "":
			v.opened(ctx, c, e.RMID, false)
		case e.Type == conversation.EventChannelChanged && e.Channel == conversation.ChannelVideo:
			v.opened(ctx, c, c.AssigneeID, true)
		case e.Type == conversation.EventStatusChanged && (e.ToStatus == conversation.StatusWrapUp || e.ToStatus.Terminal()):
			if err := v.srv.EndRoom(video.RoomID(c.ID)); err == nil {
				v.log.Info("video room ended with its conversation", "conversation_id", c.ID, "status", e.ToStatus)
			}
		}
	}
}

// opened opens c's room for rm and tells rm's desk how to join (and, when
// escalated, how the client joins).
func (v *videoChannel) opened(ctx context.Context, c conversation.Conversation, rm conversation.RMID, escalated bool) {
	log := v.log.With("conversation_id", c.ID, "rm_id", rm)
	if err := v.open(c); err != nil {
		log.Error("video room not opened", "error", err)
		return
	}
	d := desk.VideoData{Kind: desk.VideoRoomOpened, ConversationID: c.ID, Room: string(c.ID), At: time.Now().UTC()}
	var err error
	if d.Join, err = v.link(video.Grant{Room: video.RoomID(c.ID), Role: video.RoleRM, Identity: string(rm)}); err != nil {
		log.Error("rm join link not issued", "error", err)
		return
	}
	if escalated {
		g := video.Grant{Room: video.RoomID(c.ID), Role: video.RoleClient, Identity: string(c.CustomerID)}
		if d.Client, err = v.invite(ctx, g, time.Now().Add(v.cfg.InvitationTTL)); err != nil {
			log.Error("client invitation not made", "error", err)
		}
	}
	if err := v.hub.Publish(context.WithoutCancel(ctx), rm, desk.EventVideo, d); err != nil {
		log.Warn("video event not published to the desk", "error", err)
	}
	log.Info("video room opened", "escalated", escalated)
}

// sessions returns v as the API's scheduler (nil, not a typed nil, when
// video is off).
func (v *videoChannel) sessions() api.VideoSessions {
	if v == nil {
		return nil
	}
	return v
}

// closeVideo releases the video channel's socket when New fails after
// building it.
func (g *Gateway) closeVideo() {
	if g.video != nil {
		_ = g.video.sfu.Close()
	}
}

// videoObserver tells the video channel of routing changes besides the
// other observers (video is set once, before the gateway serves).
type videoObserver struct {
	router.Observer
	video *videoChannel
}

// Changed implements router.Observer.
func (o *videoObserver) Changed(ctx context.Context, c conversation.Conversation, evs []conversation.Event, rms []conversation.RMID) {
	o.Observer.Changed(ctx, c, evs, rms)
	if o.video != nil {
		o.video.changed(ctx, c, evs)
	}
}
