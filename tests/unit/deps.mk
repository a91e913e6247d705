# SPDX-License-Identifier: Apache-2.0
# Which userspace objects each unit test links (included by the top-level Makefile).
$(OUT)/tests/unit/test_json: $(OUT)/userspace/json.o
$(OUT)/tests/unit/test_config: $(OUT)/userspace/config.o
$(OUT)/tests/unit/test_json: LDLIBS += -ljansson
$(OUT)/tests/unit/test_decode: $(OUT)/userspace/collector.o $(OUT)/userspace/loop.o
$(OUT)/tests/unit/test_detector: $(OUT)/userspace/detector.o $(OUT)/userspace/config.o
$(OUT)/tests/unit/test_incidents: $(OUT)/userspace/incidents.o $(OUT)/userspace/detector.o \
	$(OUT)/userspace/config.o $(OUT)/userspace/loop.o
$(OUT)/tests/unit/test_sinks: $(OUT)/userspace/sinks.o $(OUT)/userspace/json.o \
	$(OUT)/userspace/incidents.o $(OUT)/userspace/detector.o $(OUT)/userspace/config.o \
	$(OUT)/userspace/loop.o
$(OUT)/tests/unit/test_sinks: LDLIBS += -ljansson
$(OUT)/tests/unit/test_healer: $(OUT)/userspace/healer.o $(OUT)/userspace/actions.o \
	$(OUT)/userspace/sinks.o $(OUT)/userspace/json.o $(OUT)/userspace/incidents.o \
	$(OUT)/userspace/detector.o $(OUT)/userspace/config.o $(OUT)/userspace/loop.o
$(OUT)/tests/unit/test_healer: LDLIBS += -ljansson
# config.c is split into config_*.c: every test that links config.o links all of its pieces.
CONFIG_OBJS := $(OUT)/userspace/config.o $(OUT)/userspace/config_build.o \
	$(OUT)/userspace/config_schema.o $(OUT)/userspace/config_yaml.o
$(addprefix $(OUT)/tests/unit/,test_config test_detector test_incidents test_sinks test_healer): \
	$(CONFIG_OBJS)
# The detector names syscalls (slow-syscall records).
$(addprefix $(OUT)/tests/unit/,test_detector test_incidents test_sinks test_healer): \
	$(OUT)/userspace/syscalls.o
$(OUT)/tests/unit/test_ctl: $(OUT)/userspace/ctl.o $(OUT)/userspace/ctl_render.o \
	$(OUT)/userspace/json.o $(OUT)/userspace/loop.o
$(OUT)/tests/unit/test_ctl: LDLIBS += -lpthread
# history: the live table's answers, the journal reader, and their renderers.
$(OUT)/tests/unit/test_history: $(OUT)/userspace/history.o $(OUT)/userspace/incidents.o \
	$(OUT)/userspace/detector.o $(OUT)/userspace/syscalls.o $(OUT)/userspace/sinks.o \
	$(OUT)/userspace/json.o $(OUT)/userspace/loop.o $(OUT)/userspace/ctl_render.o \
	$(CONFIG_OBJS)
$(OUT)/tests/unit/test_history: LDLIBS += -ljansson
$(OUT)/tests/unit/test_spool: $(OUT)/userspace/spool.o
$(OUT)/tests/unit/test_spool: LDLIBS += -lz
# knowledge: the (signature, action) store and its file; the healer learns from it and chooses
# by it. The integration test of `vigil knowledge` writes its store through the same API.
$(OUT)/tests/unit/test_knowledge: $(OUT)/userspace/knowledge.o
$(OUT)/tests/unit/test_knowledge: LDLIBS += -ljansson
$(OUT)/tests/unit/test_healer: $(OUT)/userspace/knowledge.o
$(OUT)/tests/integration/test_cli: $(OUT)/userspace/knowledge.o
$(OUT)/tests/unit/test_redis_wire: $(OUT)/userspace/redis_wire.o $(OUT)/userspace/redis_cmd.o
# files.o: the parent directories of the journal, the spool and the knowledge store.
$(addprefix $(OUT)/tests/unit/,test_sinks test_healer test_history test_spool test_knowledge) \
	$(OUT)/tests/integration/test_cli: $(OUT)/userspace/files.o
# The Redis sink itself, with no Redis: down, stalled, spool cap.
$(OUT)/tests/unit/test_redis_sink: $(OUT)/userspace/redis.o $(OUT)/userspace/redis_send.o \
	$(OUT)/userspace/redis_cmd.o $(OUT)/userspace/redis_wire.o $(OUT)/userspace/spool.o \
	$(OUT)/userspace/files.o
$(OUT)/tests/unit/test_redis_sink: LDLIBS += -lhiredis -lz -lpthread
