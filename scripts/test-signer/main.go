// verdict-test-signer: a remote signer for tests, the way tmkms or Horcrux serve a
// validator. It holds a CometBFT priv_validator_key.json (and its sign state) and
// dials the node's `priv_validator_laddr` (unix:// or tcp://), signing votes,
// proposals and vote extensions over CometBFT's privval protocol.
//
//	verdict-test-signer --key KEY.json --state STATE.json --addr unix:///path/pv.sock --chain-id C
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/privval"
)

func main() {
	key := flag.String("key", "", "priv_validator_key.json")
	state := flag.String("state", "", "priv_validator_state.json (created when absent)")
	addr := flag.String("addr", "", "the node's priv_validator_laddr")
	chainID := flag.String("chain-id", "", "chain id")
	flag.Parse()
	if *key == "" || *state == "" || *addr == "" || *chainID == "" {
		fmt.Fprintln(os.Stderr, "usage: verdict-test-signer --key K --state S --addr A --chain-id C")
		os.Exit(2)
	}
	logger := log.NewTMLogger(log.NewSyncWriter(os.Stdout))
	if _, err := os.Stat(*state); os.IsNotExist(err) {
		pv := privval.LoadFilePVEmptyState(*key, *state)
		pv.LastSignState.Save()
	}
	pv := privval.LoadFilePV(*key, *state)
	var dialer privval.SocketDialer
	switch {
	case strings.HasPrefix(*addr, "unix://"):
		dialer = privval.DialUnixFn(strings.TrimPrefix(*addr, "unix://"))
	case strings.HasPrefix(*addr, "tcp://"):
		dialer = privval.DialTCPFn(strings.TrimPrefix(*addr, "tcp://"), 3*time.Second, ed25519.GenPrivKey())
	default:
		fmt.Fprintf(os.Stderr, "--addr must be unix:// or tcp://, not %q\n", *addr)
		os.Exit(2)
	}
	endpoint := privval.NewSignerDialerEndpoint(logger, dialer,
		privval.SignerDialerEndpointConnRetries(1000),
		privval.SignerDialerEndpointRetryWaitInterval(100*time.Millisecond))
	server := privval.NewSignerServer(endpoint, *chainID, pv)
	if err := server.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "signer: %v\n", err)
		os.Exit(1)
	}
	logger.Info("remote signer up", "address", pv.GetAddress().String(), "node", *addr)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	_ = server.Stop()
}
