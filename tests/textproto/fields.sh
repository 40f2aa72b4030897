#!/bin/bash
# fields.sh PCAP: tshark's reading of the text protocols and TFTP, one row
# a frame (check.lua reads it)
f=(frame.number ftp.request.command ftp.request.arg ftp.response.code ftp.response.arg
   smtp.req.command smtp.req.parameter smtp.response.code smtp.rsp.parameter
   pop.request.command pop.request.parameter pop.response.indicator pop.response.description
   imap.request_tag imap.request.command imap.response_tag imap.response.status
   tftp.opcode tftp.source_file tftp.destination_file tftp.type tftp.block
   tftp.error.code tftp.error.message tftp.option.name tftp.option.value)
tshark -r "$1" -T fields -E header=y -E occurrence=a -E 'aggregator=;' \
  -Y 'ftp or smtp or pop or imap or tftp' $(printf " -e %s" "${f[@]}") 2>/dev/null
