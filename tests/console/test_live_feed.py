"""The console's live feed when the server stops: every event stream ends, including one whose
request arrived just as the shutdown began (it would otherwise hold the shutdown for a minute)."""

from __future__ import annotations

from intake.console.live import END, LiveFeed


async def test_a_stream_opened_after_the_shutdown_began_ends_at_once():
    feed = LiveFeed()
    async with feed.subscribe() as early:
        feed.end_streams()
        assert early.get_nowait() == END
        async with feed.subscribe() as late:
            assert late.get_nowait() == END


async def test_changes_reach_open_streams_until_then():
    feed = LiveFeed()
    async with feed.subscribe() as stream:
        feed.publish("conversation")
        assert stream.get_nowait() == "conversation"
