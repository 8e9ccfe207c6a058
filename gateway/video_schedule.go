package gateway

import (
	"context"
	"fmt"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/video"
	"github.com/airbranch/airbranch/gateway/api"
	"github.com/airbranch/airbranch/gateway/desk"
)

var _ api.VideoSessions = (*videoChannel)(nil)

// maxScheduleAhead bounds how far ahead a session may be scheduled.
const maxScheduleAhead = 90 * 24 * time.Hour

// Schedule implements api.VideoSessions: a video conversation of the
// customer with rm as its organiser (and the RMs and specialists the
// directory knows as participants, so their desks hear of the room), its
// room opened now, rm's join token, and single-use invitations for the
// client and every invitee.
func (v *videoChannel) Schedule(ctx context.Context, rm conversation.RMID, team conversation.TeamID, req api.VideoSessionRequest) (api.VideoSession, error) {
	now := time.Now()
	start := req.StartsAt
	if start.IsZero() {
		start = now
	}
	if start.Before(now.Add(-time.Hour)) || start.After(now.Add(maxScheduleAhead)) {
		return api.VideoSession{}, fmt.Errorf("starts_at %s: %w (allowed: from an hour ago to %d days ahead)", start.Format(time.RFC3339), conversation.ErrInvalid, int(maxScheduleAhead/(24*time.Hour)))
	}
	cust, err := v.customers.Customer(ctx, req.CustomerID)
	if err != nil {
		return api.VideoSession{}, err
	}
	addr, ok := cust.Address(conversation.AddressApp)
	if !ok {
		addr = conversation.Address{Kind: conversation.AddressApp, Value: string(cust.ID)}
	}
	c := conversation.New(cust, conversation.ChannelVideo, addr, now)
	c.ChannelAccount, c.Intent, c.TeamID = videoAccount, req.Intent, team
	c.Join(conversation.RoleRM, string(rm), now)
	for _, in := range req.Invitees {
		if in.Role == string(video.RoleObserver) {
			continue
		}
		if _, err := v.dir.RM(ctx, conversation.RMID(in.Identity)); err == nil && conversation.RMID(in.Identity) != rm {
			c.Join(conversation.RoleSpecialist, in.Identity, now)
		}
	}
	c.Tags = append(c.Tags, "scheduled:"+start.UTC().Format(time.RFC3339))
	stored, err := v.store.CreateConversation(ctx, c)
	if err != nil {
		return api.VideoSession{}, fmt.Errorf("gateway: schedule video: %w", err)
	}
	ev := conversation.NewEvent(stored.ID, conversation.EventStatusChanged, string(rm), now)
	ev.ToStatus, ev.Channel, ev.RMID = conversation.StatusNew, conversation.ChannelVideo, rm
	ev.Reason = fmt.Sprintf("video session scheduled by %s for %s", rm, start.UTC().Format(time.RFC3339))
	if err := v.store.AppendEvent(ctx, ev); err != nil {
		v.log.Error("scheduling event not stored", "conversation_id", stored.ID, "error", err)
	}
	if err := v.open(stored); err != nil {
		return api.VideoSession{}, fmt.Errorf("gateway: schedule video: %w", err)
	}
	room := video.RoomID(stored.ID)
	org, err := v.link(video.Grant{Room: room, Role: video.RoleRM, Identity: string(rm)})
	if err != nil {
		return api.VideoSession{}, err
	}
	out := api.VideoSession{ConversationID: stored.ID, Room: string(room), StartsAt: start.UTC(), Organiser: apiLink(org, "")}
	expires := start.Add(v.cfg.InvitationTTL)
	invitees := append([]api.VideoInvitee{{Role: string(video.RoleClient), Identity: string(cust.ID), Name: cust.DisplayName}}, req.Invitees...)
	for _, in := range invitees {
		l, err := v.invite(ctx, video.Grant{Room: room, Role: video.Role(in.Role), Identity: in.Identity, Name: in.Name}, expires)
		if err != nil {
			return api.VideoSession{}, fmt.Errorf("gateway: schedule video: invitation: %w", err)
		}
		out.Invitations = append(out.Invitations, apiLink(l, in.Name))
	}
	v.scheduled.add(stored.ID, expires)
	d := desk.VideoData{Kind: desk.VideoRoomOpened, ConversationID: stored.ID, Room: string(room), Join: org, At: now.UTC()}
	if err := v.hub.Publish(context.WithoutCancel(ctx), rm, desk.EventVideo, d); err != nil {
		v.log.Warn("video event not published to the desk", "rm_id", rm, "error", err)
	}
	v.log.Info("video session scheduled", "conversation_id", stored.ID, "rm_id", rm, "invitations", len(out.Invitations))
	return out, nil
}

func apiLink(l *desk.VideoLink, name string) api.VideoLink {
	return api.VideoLink{Role: l.Role, Identity: l.Identity, Name: name, Token: l.Token, Code: l.Code, URL: l.URL, ExpiresAt: l.ExpiresAt}
}
