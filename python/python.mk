# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# python/python.mk - language bindings, included from the top Makefile.
#
#   make python          build the CPython extension ffpf._ffpf against the
#                        in-tree library (build/libffpfbpf.so, include/):
#                        PYTHONPATH=build/python /usr/bin/python3 -c 'import ffpf'
#   make install-python  install the ffpf package into Debian's dist-packages
#                        (PREFIX=/usr: /usr/lib/python3/dist-packages, else
#                        PREFIX/lib/python3.X/dist-packages; DESTDIR honoured)
#   make uninstall-python
#   make install         also installs the C++ header ffpf/ffpf.hpp
#
# Debian's python3 (PYTHON=/usr/bin/python3) and python3-dev; no PyPI.

PYTHON      ?= /usr/bin/python3
PY_OUT      := $(OUT)/python
PY_SRCS     := python/_ffpf.c
PY_FILES    := python/ffpf/__init__.py python/ffpf/__init__.pyi python/ffpf/py.typed

ifneq ($(filter python install-python uninstall-python test-python,$(MAKECMDGOALS)),)
PY_INC      := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_paths()["include"])' 2>/dev/null)
PY_EXT      := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))' 2>/dev/null)
PY_VER      := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
ifeq ($(wildcard $(PY_INC)/Python.h),)
$(error Python.h not found for $(PYTHON): run 'make deps' (or: apt-get install python3-dev))
endif
endif
PYDIR       ?= $(if $(filter /usr,$(PREFIX)),$(PREFIX)/lib/python3/dist-packages,$(PREFIX)/lib/python$(PY_VER)/dist-packages)

PY_CFLAGS   := -O2 -g -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	       -Werror=implicit-function-declaration -fPIC -fvisibility=hidden \
	       -D_GNU_SOURCE -Iinclude -I$(PY_INC)
PY_MOD      := $(PY_OUT)/ffpf/_ffpf$(PY_EXT)

.PHONY: python install-python uninstall-python test-python install-hpp

python: $(PY_MOD) $(patsubst python/%,$(PY_OUT)/%,$(PY_FILES))

$(PY_OUT)/_ffpf.o: $(PY_SRCS) $(wildcard include/ffpf/*.h)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(PY_CFLAGS) -c $< -o $@

# In-tree: linked to build/libffpfbpf.so, found through an rpath to build/.
$(PY_MOD): $(PY_OUT)/_ffpf.o $(SHARED)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -shared $< -o $@ -L$(OUT) -lffpfbpf -Wl,-rpath,$(abspath $(OUT))

$(PY_OUT)/ffpf/%: python/ffpf/%
	$(Q)mkdir -p $(@D)
	$(Q)cp $< $@

# Installed: linked again, to the library where `make install` puts it.
install-python: $(PY_OUT)/_ffpf.o $(SHARED) $(PY_FILES)
	install -d $(DESTDIR)$(PYDIR)/ffpf
	$(CC) -shared $(PY_OUT)/_ffpf.o -o $(PY_OUT)/_ffpf.installed.so -L$(OUT) -lffpfbpf \
		$(if $(filter /usr/lib /lib,$(LIBDIR)),,-Wl,-rpath,$(LIBDIR))
	install -m 644 $(PY_OUT)/_ffpf.installed.so $(DESTDIR)$(PYDIR)/ffpf/_ffpf$(PY_EXT)
	install -m 644 $(PY_FILES) $(DESTDIR)$(PYDIR)/ffpf/

uninstall-python:
	rm -rf $(DESTDIR)$(PYDIR)/ffpf

test-python: python
	$(Q)bash tests/run.sh test_python

# The C++ wrapper goes with the C headers.
install: install-hpp
install-hpp:
	install -d $(DESTDIR)$(INCDIR)/ffpf
	install -m 644 include/ffpf/*.hpp $(DESTDIR)$(INCDIR)/ffpf/
