# SPDX-License-Identifier: Apache-2.0
# Which userspace objects each unit test links (included by the top-level Makefile).
$(OUT)/tests/unit/test_json: $(OUT)/userspace/json.o
$(OUT)/tests/unit/test_config: $(OUT)/userspace/config.o
$(OUT)/tests/unit/test_json: LDLIBS += -ljansson
