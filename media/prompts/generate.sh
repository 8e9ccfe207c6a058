#!/bin/sh
# Regenerates the prompts in audio/ (8 kHz mono µ-law, headerless, ITU-T
# G.711) from text with Debian's espeak-ng and sox:
#   apt-get install espeak-ng sox && sh generate.sh
# The files are committed; this script is not run by the build or tests.
set -eu
SPEED=175
cd "$(dirname "$0")/audio"
say() { # say VOICE NAME TEXT
	espeak-ng -v "$1" -s "$SPEED" -w /tmp/prompt.wav "$3"
	sox /tmp/prompt.wav -r 8000 -c 1 -e u-law -t raw "$2.ulaw" vol -3dB silence 1 0.05 0.5% reverse silence 1 0.05 0.5% reverse
}
say en-gb en_welcome "Welcome. Please hold for your relationship manager. For Chinese, press 1. To be called back, press 2."
say en-gb en_language "English."
say en-gb en_callback "Thank you. We will call you back. Goodbye."
say en-gb en_position_1 "You are next in the queue."
say en-gb en_position_2 "You are number 2 in the queue."
say en-gb en_position_3 "You are number 3 in the queue."
say en-gb en_position_many "There are several callers ahead of you."
say en-gb en_wait_short "Your expected wait is under 2 minutes."
say en-gb en_wait_long "Your expected wait is over 2 minutes."
say en-gb en_recording "This call will be recorded for quality and regulatory purposes."
say en-gb en_transfer "Please hold while we transfer your call."
SPEED=230
say cmn zh_welcome "欢迎致电。请稍候，客户经理马上为您服务。English, press 1. 需要回电，请按2。"
say cmn zh_language "中文。"
say cmn zh_callback "谢谢，我们会给您回电。再见。"
say cmn zh_position_1 "下一位就是您。"
say cmn zh_position_2 "您前面还有1位。"
say cmn zh_position_3 "您前面还有2位。"
say cmn zh_position_many "您前面还有多位客户。"
say cmn zh_wait_short "预计等待不到2分钟。"
say cmn zh_wait_long "预计等待超过2分钟。"
say cmn zh_recording "为确保服务质量及符合监管要求，本次通话将会录音。"
say cmn zh_transfer "请稍候，正在为您转接。"
rm -f /tmp/prompt.wav
