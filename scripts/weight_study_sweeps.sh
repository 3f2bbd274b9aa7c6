#!/usr/bin/env bash
# The sweeps of the study (docs/weights-study.md) "When the weights find label errors", one group per data set:
#
#   bash scripts/weight_study_sweeps.sh GROUP [extra gdw sweep flags, e.g. --backend ray]
#
# GROUP: digits (8x8 digits, MLP), digits-png (the digits as a 32x32 PNG folder, ResNet-8),
# digits-png-ablation (GDW on that folder at uniform 5% and 40% with each half of the default
# weighting net alone: --weight-net monotone-raw and paper-normalised),
# mnist (10,000 real MNIST images, LeNet), mnist-png (the same images as a PNG folder,
# ResNet-8), cifar10n (10,000 CIFAR-10 images with CIFAR-N's human labels, the LeNet, 10 epochs,
# as the cifar10n-small preset's former schedule). Each runs the noise
# grid (uniform 2%, 5%, 10%, 40%; flip 10%, 40%; or the human label sets) with 3 seeds, for ERM
# and GDW with the default weighting net and GDW with the paper's (on digits MW-Net too, with
# both nets), into sweeps/study/GROUP-*. Rerunning resumes. Then:
#
#   python scripts/weight_study.py sweeps/study/GROUP-*
#
# Data roots come from the environment: DIGITS_PNG (python scripts/image_folder.py digits DIR),
# MNIST_ROOT (default ../shared/data/mnist), MNIST_PNG (python scripts/image_folder.py mnist DIR
# --data-root ../shared/data/mnist --train-count 11000: 10,000 to train on once the meta set of
# 1,000 is drawn), CIFAR_ROOT (CIFAR-10 in torchvision's layout, with CIFAR-10_human.pt).
# mnist (GDW about 4.5 minutes a run on 2 CPU cores) runs uniform 5% and 40% and flip 10%,
# and the paper's net only at the two cells of the study's bars (uniform 5%, flip 10%);
# mnist-png trains ResNet-8 on 10,000 images, about ten times the cost of mnist: it runs
# uniform 5% and 40% and flip 10% only.
set -euo pipefail
group=${1:?usage: weight_study_sweeps.sh digits|digits-png|mnist|mnist-png|cifar10n [flags]}
shift
out=${STUDY_OUT:-sweeps/study}
seeds=${STUDY_SEEDS:-3}

case "$group" in
  digits) data=(--dataset digits); meta_methods=mwnet,gdw ;;
  digits-png|digits-png-ablation)
    data=(--dataset imagefolder --data-root "${DIGITS_PNG:?set DIGITS_PNG}" --epochs 12)
    meta_methods=gdw ;;
  mnist) data=(--dataset mnist --data-root "${MNIST_ROOT:-../shared/data/mnist}" --train-subset 10000)
    meta_methods=gdw ;;
  mnist-png) data=(--dataset imagefolder --data-root "${MNIST_PNG:?set MNIST_PNG}" --epochs 10
    --num-meta 1000); meta_methods=gdw ;;
  cifar10n) data=(--dataset cifar10 --data-root "${CIFAR_ROOT:?set CIFAR_ROOT}" --model lenet
    --train-subset 10000 --epochs 10); meta_methods=gdw ;;
  *) echo "unknown group $group" >&2; exit 2 ;;
esac

sweep() {  # name, noise flags..., then the methods and weighting net
  local name=$1; shift
  python -m gdw sweep "${data[@]}" "$@" --seeds "$seeds" --out "$out/$group-$name" "${extra[@]}"
}
extra=("$@")

if [ "$group" = cifar10n ]; then
  for labels in aggre random1 worse; do
    sweep "$labels-default" --noise human --human-labels "$labels" --methods "erm,$meta_methods"
    sweep "$labels-paper" --noise human --human-labels "$labels" --methods "$meta_methods" \
      --weight-net paper
  done
  exit 0
fi
if [ "$group" = digits-png-ablation ]; then
  for net in monotone-raw paper-normalised; do
    sweep "uniform-$net" --noise uniform --noise-rates 0.05,0.4 --methods gdw --weight-net "$net"
  done
  exit 0
fi
uniform=0.02,0.05,0.1,0.4
flip=0.1,0.4
paper_uniform=$uniform
paper_flip=$flip
if [ "$group" = mnist-png ]; then uniform=0.05,0.4; flip=0.1; paper_uniform=$uniform; paper_flip=$flip; fi
if [ "$group" = mnist ]; then uniform=0.05,0.4; flip=0.1; paper_uniform=0.05; paper_flip=0.1; fi
sweep uniform-default --noise uniform --noise-rates $uniform --methods "erm,$meta_methods"
sweep flip-default --noise flip --noise-rates $flip --methods "erm,$meta_methods"
sweep uniform-paper --noise uniform --noise-rates $paper_uniform --methods "$meta_methods" \
  --weight-net paper
sweep flip-paper --noise flip --noise-rates $paper_flip --methods "$meta_methods" \
  --weight-net paper
