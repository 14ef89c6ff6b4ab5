// Command follow is the smallest useful partner client: it checks its key with GetPartnerInfo, then follows
// the tenant's interview, scorecard and decision events with SubscribeEvents from the position stored in a
// file. It prints each event as a JSON line, stores the position after each item (event or heartbeat),
// skips events it has already seen (delivery is at least once) and reconnects from the stored position when
// the stream ends UNAVAILABLE (a gateway pod draining).
//
//	go run ./examples/follow -target 127.0.0.1:50064 -key "$INTERLOOP_PARTNER_KEY" -tenant acme
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	// Registers the interloop.events.v1 messages, so the events' Any payloads print decoded.
	_ "github.com/interloop/interloop/clients/go/interloop/events/v1"
	partnerv1 "github.com/interloop/interloop/clients/go/interloop/partner/v1"
)

const maxBackoff = 30 * time.Second

func main() {
	target := flag.String("target", "127.0.0.1:50064", "the gateway's gRPC address")
	key := flag.String("key", os.Getenv("INTERLOOP_PARTNER_KEY"), "the partner key (ilp_...); default $INTERLOOP_PARTNER_KEY")
	tenant := flag.String("tenant", "", "the tenant to act for (x-tenant-id)")
	positionFile := flag.String("position-file", "interloop.position", "where the stream position is kept")
	start := flag.String("start", "earliest", `where to start without a stored position: "earliest" or "" (from now)`)
	useTLS := flag.Bool("tls", false, "connect with TLS (the system's roots)")
	flag.Parse()
	if *key == "" || *tenant == "" {
		log.Fatal("-key (or $INTERLOOP_PARTNER_KEY) and -tenant are required")
	}

	creds := insecure.NewCredentials()
	if *useTLS {
		creds = credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12})
	}
	conn, err := grpc.NewClient(*target, grpc.WithTransportCredentials(creds))
	if err != nil {
		log.Fatalf("dial %s: %v", *target, err)
	}
	defer conn.Close()
	client := partnerv1.NewPartnerServiceClient(conn)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+*key, "x-tenant-id", *tenant)

	info, err := client.GetPartnerInfo(ctx, &partnerv1.GetPartnerInfoRequest{})
	if err != nil {
		log.Fatalf("GetPartnerInfo: %v", err)
	}
	log.Printf("partner %s for tenant %s (API %s, scopes %v)", info.GetPartnerId(), info.GetTenantId(),
		info.GetApiVersion(), info.GetScopes())

	seen := newRecent(10000)
	backoff := time.Second
	for {
		received, err := follow(ctx, client, *positionFile, *start, seen)
		if ctx.Err() != nil {
			return // Ctrl-C: the position is stored, the next run resumes from it
		}
		if code := status.Code(err); code != codes.Unavailable {
			log.Fatalf("SubscribeEvents: %v", err)
		}
		if received {
			backoff = time.Second
		}
		log.Printf("stream ended (%v); reconnecting in %s", err, backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// follow reads one stream until it ends; received says whether any item arrived (then backoff restarts).
func follow(ctx context.Context, client partnerv1.PartnerServiceClient, positionFile, start string,
	seen *recent) (received bool, err error) {
	position, err := readPosition(positionFile, start)
	if err != nil {
		return false, err
	}
	stream, err := client.SubscribeEvents(ctx, &partnerv1.SubscribeEventsRequest{Position: position})
	if err != nil {
		return false, err
	}
	for {
		item, err := stream.Recv()
		if err != nil {
			return received, err
		}
		received = true
		if ev := item.GetEvent(); ev != nil && seen.add(ev.GetId()) {
			line, err := protojson.Marshal(ev)
			if err != nil {
				return received, fmt.Errorf("event %s: %w", ev.GetId(), err)
			}
			fmt.Println(string(line))
		}
		// After the item is processed, never before: a crash in between repeats it rather than losing it.
		if err := writePosition(positionFile, item.GetPosition()); err != nil {
			return received, err
		}
	}
}

func readPosition(path, start string) (string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return start, nil
	}
	return string(data), err
}

// writePosition replaces the file whole (write, then rename), so a crash never leaves half a position.
func writePosition(path, position string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	if _, err := tmp.WriteString(position); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// recent remembers the last n event ids: a redelivery comes shortly after the original.
type recent struct {
	ids   map[string]struct{}
	order []string
	n     int
}

func newRecent(n int) *recent { return &recent{ids: make(map[string]struct{}, n), n: n} }

// add reports whether id is new, and remembers it.
func (r *recent) add(id string) bool {
	if _, ok := r.ids[id]; ok {
		return false
	}
	if len(r.order) == r.n {
		delete(r.ids, r.order[0])
		r.order = r.order[1:]
	}
	r.ids[id] = struct{}{}
	r.order = append(r.order, id)
	return true
}
